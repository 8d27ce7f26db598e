"""Griffe extension: classes made with `selectools.frozen.record` are dataclasses in the docs.

Griffe recognises `@dataclasses.dataclass` by name and builds the class's
signature from its fields. `@record` is a `dataclass_transform` (a frozen,
slotted dataclass that is cheap to define), so without this its classes
would lose their signatures in the API reference.
"""

from __future__ import annotations

from typing import Any

from griffe import Class, ExprName, Extension

RECORD = "selectools.frozen.record"


class RecordsAreDataclasses(Extension):
    """Reads `@record` as `@dataclass` so griffe's dataclass support applies."""

    def on_class_instance(self, *, cls: Class, **kwargs: Any) -> None:
        for decorator in cls.decorators:
            if decorator.callable_path == RECORD:
                decorator.value = ExprName("dataclass", parent="dataclasses")
                cls.labels.add("dataclass")
