"""`@record`: the record types behave exactly as the dataclasses they replace."""

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
from selectools.frozen import record
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


@record
class Rec:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)
    d: int = field(default=4, kw_only=True)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1,), {}), ((1, "x"), {}), ((1, "x", [2]), {"d": 5}), ((), {"a": 1, "c": [3], "d": 0})],
)
def test_same_values_as_the_generated_init(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    assert dataclasses.astuple(Rec(*args, **kwargs)) == dataclasses.astuple(Plain(*args, **kwargs))
    assert (
        repr(Rec(*args, **kwargs)).split("(", 1)[1] == repr(Plain(*args, **kwargs)).split("(", 1)[1]
    )


def test_same_signature_and_errors_as_the_generated_init() -> None:
    assert str(inspect.signature(Rec)) == str(inspect.signature(Plain))
    for args, kwargs in [((), {}), ((1, "x", [], 4), {}), ((1,), {"e": 1}), ((1,), {"a": 2})]:
        with pytest.raises(TypeError) as fast:
            Rec(*args, **kwargs)
        with pytest.raises(TypeError) as plain:
            Plain(*args, **kwargs)
        name = Rec.__name__
        assert str(fast.value).replace(name, "X") == str(plain.value).replace("Plain", "X")


def test_still_frozen_hashable_comparable_picklable_and_replaceable() -> None:
    made = Rec(1, "x", d=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.a = 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        del made.a
    assert Rec(1) == Rec(1)
    assert Rec(1) != Rec(2)
    assert Rec(1) != Plain(1)  # another class: never equal, as dataclasses compare
    assert hash(Rec(1, c=None)) == hash(Rec(1, c=None))
    assert hash(Rec(1, c=None)) == hash(Plain(1, c=None))  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(made)) == made
    assert copy.deepcopy(made) == made
    assert copy.copy(made) == made
    assert dataclasses.replace(made, a=7) == Rec(7, "x", d=2)
    assert dataclasses.asdict(made) == dataclasses.asdict(Plain(1, "x", d=2))
    assert Rec(1).c is not Rec(1).c  # a fresh default per instance, as default_factory says
    assert Rec.__match_args__ == Plain.__match_args__
    assert Rec.__slots__ == Plain.__slots__
    assert Rec.__dataclass_params__.frozen


def test_a_record_keeps_field_options_and_its_own_methods() -> None:
    @record
    class Timed:
        name: str
        started: float = field(default=0.0, compare=False, repr=False)

        def __repr__(self) -> str:
            return f"<Timed {self.name}>"

    assert Timed("a", 1.0) == Timed("a", 2.0)  # compare=False: not part of equality
    assert hash(Timed("a", 1.0)) == hash(Timed("a", 2.0))
    assert repr(Timed("a")) == "<Timed a>"  # a method the class defines stays

    @record
    class Quiet:
        name: str
        secret: str = field(default="", repr=False)

    assert repr(Quiet("a", "s")) == f"{Quiet.__qualname__}(name='a')"  # as dataclasses name it


def test_a_dataclass_may_build_on_a_record_as_on_a_frozen_dataclass() -> None:
    @dataclass(frozen=True)
    class Child(Rec):
        e: int = 0

    assert Child(1, e=2).e == 2
    with pytest.raises(TypeError, match="non-frozen"):

        @dataclass
        class Mutable(Rec):
            e: int = 0


def test_record_refuses_init_false_fields() -> None:
    with pytest.raises(TypeError, match="init=False"):

        @record
        class Derived:
            n: int
            m: int = field(init=False, default=0)


def test_post_init_still_runs() -> None:
    seen: list[int] = []

    @record
    class Checked:
        n: int

        def __post_init__(self) -> None:
            seen.append(self.n)

    Checked(3)
    assert seen == [3]


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


def test_a_message_built_through_its_record_init_is_the_message_it_was() -> None:
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
