"""What type checkers know about structured output: checked by `mypy`, never run.

`agent.run(..., output_type=T)` returns `AgentResult[T]`, so `result.output`
is a T; without `output_type` it is the text.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, assert_type

from pydantic import BaseModel

from selectools import Agent, AgentResult, RunFinished


class Weather(BaseModel):
    city: str
    temp_c: int


@dataclasses.dataclass
class Point:
    x: float
    y: float


def structured_outputs_are_typed(agent: Agent) -> None:
    assert_type(agent.run("?", output_type=Weather), AgentResult[Weather])
    assert_type(agent.run("?", output_type=Weather).output, Weather)
    assert_type(agent.run("?", output_type=Point).output, Point)
    assert_type(agent.run("?", output_type=int).output, int)
    assert_type(agent.run("?").output, str)
    assert_type(agent.run("?").text, str)


async def async_outputs_are_typed(agent: Agent) -> None:
    assert_type((await agent.arun("?", output_type=Weather)).output, Weather)
    assert_type((await agent.arun("?")).output, str)


def a_bare_result_is_a_text_result(result: AgentResult) -> None:
    assert_type(result.output, str)


def a_schema_dict_is_untyped(agent: Agent, schema: dict[str, Any]) -> None:
    assert_type(agent.run("?", output_type=schema).output, Any)


def unions_and_literals_are_accepted_and_untyped(agent: Agent) -> None:
    """What pydantic's TypeAdapter takes at run time, type checkers accept too."""
    assert_type(agent.run("?", output_type=int | str).output, Any)
    assert_type(agent.run("?", output_type=Literal["low", "high"]).output, Any)


async def an_async_union_is_accepted(agent: Agent) -> None:
    assert_type((await agent.arun("?", output_type=int | None)).output, Any)


def a_streamed_structured_result_can_be_read(agent: Agent) -> None:
    for event in agent.stream("?", output_type=Weather):
        if isinstance(event, RunFinished):
            city: str = event.result.output.city  # the Weather, not the text
            assert_type(event.result.text, str)
            del city


def a_resumed_run_is_typed_like_a_run(agent: Agent) -> None:
    """A Python output type cannot be stored with a paused run: `resume` takes it again."""
    assert_type(agent.resume("apr", True, output_type=Weather).output, Weather)
    assert_type(agent.resume("apr", True), AgentResult[Any])


async def an_async_resumed_run_is_typed_too(agent: Agent) -> None:
    assert_type((await agent.aresume("apr", True, output_type=Point)).output, Point)
