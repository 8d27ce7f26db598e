"""What type checkers know about structured output: checked by `mypy`, never run.

`agent.run(..., output_type=T)` returns `AgentResult[T]`, so `result.output`
is a T; without `output_type` it is the text.
"""

from __future__ import annotations

import dataclasses
from typing import Any, assert_type

from pydantic import BaseModel

from selectools import Agent, AgentResult


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
