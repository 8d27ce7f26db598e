"""`@record`: frozen, slotted dataclasses that are cheap to define and to create.

A run creates a dozen small immutable records (its context, events, tool
records, usage, result), and `import selectools` defines about seventy such
types. `@dataclass(frozen=True, slots=True)` is the right shape for them, but
it costs twice over: its `__init__` sets every field through
`object.__setattr__` (about five times a plain attribute write), and it
compiles six methods per class (about 0.3 ms a class, most of what importing
the core cost).

`@record` makes the same dataclass (`dataclasses.fields`, `replace`,
`asdict`, `match`, what type checkers see through `dataclass_transform`)
with an `__init__` that writes each slot through the slot's own descriptor
(same signature, defaults, default factories and `__post_init__`), and one
`__repr__`, `__eq__`, `__hash__`, frozen `__setattr__` and pickling pair
shared by all records instead of compiled per class. Assigning to a field
still raises `dataclasses.FrozenInstanceError`.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

__all__ = ["record"]

T = TypeVar("T")


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"  # what dataclasses shows for such a default too


_FACTORY = _Factory()  # the default of a field built by a default_factory


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


# What `@dataclass(frozen=True, slots=True)` records about a class: shared by every
# record, so a dataclass inheriting from one sees a frozen base.
_RECORD_PARAMS = dataclasses.dataclass(frozen=True, slots=True)(
    type("_RecordParams", (), {})
).__dataclass_params__  # type: ignore[attr-defined]


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[T]) -> type[T]:
    """A frozen, slotted dataclass that is cheap to define and to create (see module)."""
    made: Any = dataclasses.dataclass(init=False, repr=False, eq=False, slots=True)(cls)
    fields = dataclasses.fields(made)
    if not all(f.init for f in fields):
        raise TypeError(f"@record does not handle init=False fields ({made.__name__}).")
    made.__dataclass_params__ = _RECORD_PARAMS
    made.__init__ = _init_for(made, list(fields))
    own = cls.__dict__
    compared = [f.name for f in fields if f.compare]
    hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
    made._record_key = staticmethod(_getter(compared))
    made._record_hash_key = staticmethod(_getter(hashed))
    made._record_repr = tuple(f.name for f in fields if f.repr)
    for name, method in (
        ("__repr__", _repr),
        ("__eq__", _eq),
        ("__hash__", _hash),
        ("__setattr__", _frozen_setattr),
        ("__delattr__", _frozen_delattr),
        ("__getstate__", _getstate),
        ("__setstate__", _setstate),
    ):
        if name not in own or (name == "__hash__" and own[name] is None):
            setattr(made, name, method)
    return made  # type: ignore[no-any-return]


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda _: ()
    if len(names) == 1:
        get = operator.attrgetter(names[0])
        return lambda obj: (get(obj),)
    return operator.attrgetter(*names)


def _repr(self: Any) -> str:
    cls = type(self)
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in cls._record_repr)
    return f"{cls.__qualname__}({inner})"


def _eq(self: Any, other: Any) -> object:
    if other.__class__ is not self.__class__:
        return NotImplemented
    key = self._record_key
    return bool(key(self) == key(other))


def _hash(self: Any) -> int:
    return hash(self._record_hash_key(self))


def _frozen_setattr(self: Any, name: str, value: Any) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self: Any, state: list[Any]) -> None:
    for field, value in zip(dataclasses.fields(self), state, strict=True):
        object.__setattr__(self, field.name, value)
