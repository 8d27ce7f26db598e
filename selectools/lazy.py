"""Lazy exports (PEP 562): a package lists names whose modules load with their first use.

So `import selectools` does not pay for providers, approval stores or policies
a program never touches, while `from selectools import OpenAIProvider`,
`selectools.OpenAIProvider` and `dir(selectools)` behave as if the name had
been imported eagerly. Each package keeps `TYPE_CHECKING` imports of the same
names, so type checkers and IDEs see the real types, and defines the hooks
only at run time, so a misspelled import is an error to them, not `Any`:

    if TYPE_CHECKING:
        from .openai import OpenAIProvider

    _LAZY = {"OpenAIProvider": ".openai"}
    if not TYPE_CHECKING:
        __getattr__, __dir__ = lazy_exports(globals(), _LAZY)

A submodule a package should not load until it is used goes in `modules`
(`lazy_exports(globals(), {}, modules=("builder",))`, with `from . import
builder` under `TYPE_CHECKING`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    namespace: dict[str, Any], lazy: Mapping[str, str], modules: Collection[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` for a package whose `lazy` names (name ->
    module, relative to the package) and submodules (`modules`, by name) load on
    first access; a loaded name is kept in `namespace`, so the hook runs once per name."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        if name in modules:
            value = importlib.import_module(f".{name}", package)
        elif name in lazy:
            value = getattr(importlib.import_module(lazy[name], package), name)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *lazy, *modules})

    return __getattr__, __dir__
