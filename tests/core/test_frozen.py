"""`@fast_init`: the record types a run creates behave exactly as the dataclasses they are."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest

import selectools.events
from selectools import AgentResult, Message, ModelRequest, ModelResponse, ToolCall, Usage
from selectools.context import RunContext
from selectools.frozen import fast_init
from selectools.results import PendingCall, ToolCallRecord

FAST = [
    Message,
    ToolCall,
    ModelRequest,
    ModelResponse,
    Usage,
    RunContext,
    ToolCallRecord,
    PendingCall,
    AgentResult,
    *(
        cls
        for cls in vars(selectools.events).values()
        if inspect.isclass(cls) and dataclasses.is_dataclass(cls)
    ),
]


@dataclass(frozen=True, slots=True)
class Plain:
    """The reference: what dataclasses itself generates."""

    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)
    d: int = field(default=4, kw_only=True)


@fast_init
@dataclass(frozen=True, slots=True)
class Fast:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)
    d: int = field(default=4, kw_only=True)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1,), {}), ((1, "x"), {}), ((1, "x", [2]), {"d": 5}), ((), {"a": 1, "c": [3], "d": 0})],
)
def test_same_values_as_the_generated_init(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert dataclasses.astuple(Fast(*args, **kwargs)) == dataclasses.astuple(Plain(*args, **kwargs))


def test_same_signature_and_errors_as_the_generated_init() -> None:
    assert str(inspect.signature(Fast)) == str(inspect.signature(Plain))
    for args, kwargs in [((), {}), ((1, "x", [], 4), {}), ((1,), {"e": 1}), ((1,), {"a": 2})]:
        with pytest.raises(TypeError) as fast:
            Fast(*args, **kwargs)
        with pytest.raises(TypeError) as plain:
            Plain(*args, **kwargs)
        assert str(fast.value).replace("Fast", "X") == str(plain.value).replace("Plain", "X")


def test_still_frozen_hashable_comparable_picklable_and_replaceable() -> None:
    record = Fast(1, "x", d=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.a = 2  # type: ignore[misc]
    assert Fast(1) == Fast(1)
    assert Fast(1) != Fast(2)
    assert hash(Fast(1, c=None)) == hash(Fast(1, c=None))  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(record)) == record
    assert copy.deepcopy(record) == record
    assert dataclasses.replace(record, a=7) == Fast(7, "x", d=2)
    assert Fast(1).c is not Fast(1).c  # a fresh default per instance, as default_factory says


def test_post_init_still_runs() -> None:
    seen: list[int] = []

    @fast_init
    @dataclass(frozen=True, slots=True)
    class Checked:
        n: int

        def __post_init__(self) -> None:
            seen.append(self.n)

    Checked(3)
    assert seen == [3]


def test_refuses_what_it_cannot_speed_up_safely() -> None:
    with pytest.raises(TypeError, match="frozen=True, slots=True"):

        @fast_init
        @dataclass(slots=True)
        class Mutable:
            n: int

    with pytest.raises(TypeError, match="init=False"):

        @fast_init
        @dataclass(frozen=True, slots=True)
        class Derived:
            n: int
            m: int = field(init=False, default=0)


@pytest.mark.parametrize("cls", FAST, ids=lambda cls: cls.__name__)
def test_the_run_record_types_keep_their_dataclass_signature(cls: type) -> None:
    """Each type's parameters are its fields, in order, with their defaults."""
    params = list(inspect.signature(cls).parameters.values())
    fields = [f for f in dataclasses.fields(cls) if f.init]
    assert [p.name for p in params] == [f.name for f in fields]
    for param, spec in zip(params, fields, strict=True):
        if spec.default is not dataclasses.MISSING:
            assert param.default == spec.default
        elif spec.default_factory is dataclasses.MISSING:
            assert param.default is inspect.Parameter.empty
    assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"


def test_a_message_built_through_the_fast_init_is_the_message_it_was() -> None:
    message = Message("assistant", "hi", (ToolCall("1", "f", "{}"),), name="n")
    wire_call = {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    assert message.to_dict() == {
        "role": "assistant",
        "content": "hi",
        "tool_calls": [wire_call],
        "name": "n",
    }
    assert Message.from_dict(message.to_dict()) == message
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.content = "changed"  # type: ignore[misc]
