"""`@fast_init`: frozen dataclasses that are cheap to create.

A run creates a dozen small immutable records (its context, events, tool
records, usage, result). `@dataclass(frozen=True, slots=True)` is the right
shape for them, but the `__init__` it generates sets every field through
`object.__setattr__`, which costs about five times a plain attribute write:
for these types, creating the record was most of what it cost.

`@fast_init` above `@dataclass(frozen=True, slots=True)` keeps that dataclass
(its `__eq__`, `__hash__`, `__repr__`, pickling, `dataclasses.replace`, what
type checkers see) and swaps in an `__init__` that writes each slot through
the slot's own descriptor, where the generic setter ends up after its lookups.
Same signature, defaults, default factories and `__post_init__`; assigning to
a field still raises `dataclasses.FrozenInstanceError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["fast_init"]

T = TypeVar("T")


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"  # what dataclasses shows for such a default too


_FACTORY = _Factory()  # the default of a field built by a default_factory


def fast_init(cls: type[T]) -> type[T]:
    """Give a frozen, slotted dataclass an `__init__` that writes its slots directly."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"@fast_init goes above @dataclass(frozen=True, slots=True), not on {cls}.")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if not all(f.init for f in fields):
        raise TypeError(f"@fast_init does not handle init=False fields ({cls.__name__}).")
    cls.__init__ = _init_for(cls, list(fields))  # type: ignore[method-assign]
    return cls


def _init_for(cls: type, fields: list[dataclasses.Field[Any]]) -> Callable[..., None]:
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    positional: list[str] = []
    keyword_only: list[str] = []
    body: list[str] = []
    for index, field in enumerate(fields):
        name = field.name
        namespace[f"_set{index}"] = cls.__dict__[name].__set__  # the slot's own descriptor
        if field.default is not dataclasses.MISSING:
            namespace[f"_default{index}"] = field.default
            param = f"{name}=_default{index}"
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{index}"] = field.default_factory
            param = f"{name}=_FACTORY"
            body.append(f"    if {name} is _FACTORY: {name} = _factory{index}()")
        else:
            param = name
        (keyword_only if field.kw_only else positional).append(param)
        body.append(f"    _set{index}(self, {name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    params = ", ".join(["self", *positional, *(["*", *keyword_only] if keyword_only else [])])
    source = f"def __init__({params}):\n" + ("\n".join(body) or "    pass")
    exec(source, namespace)  # how dataclasses builds its own __init__, minus the setattr calls
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {f.name: f.type for f in fields} | {"return": None}
    return init
