"""Structured output: typed answers from scripted, OpenAI and Anthropic models, repaired."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict  # pydantic needs this one on Python 3.11

from selectools import (
    Agent,
    AnthropicProvider,
    OpenAIProvider,
    RunFinished,
    ScriptedProvider,
    TextDelta,
    call,
    tool,
)
from selectools.structured import FINAL_ANSWER_TOOL, OutputValidationError
from tests.fakes.anthropic_server import AnthropicReply, FakeAnthropicServer
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply


class Weather(BaseModel):
    city: str
    temp_c: int


@dataclasses.dataclass
class Point:
    x: float
    y: float


class Person(TypedDict):
    name: str
    age: int


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"21 C in {city}"


def test_scripted_final_answer_tool_gives_a_typed_output() -> None:
    provider = ScriptedProvider(
        [call("get_weather", city="Paris"), call(FINAL_ANSWER_TOOL, city="Paris", temp_c=21)]
    )
    result = Agent([get_weather], provider=provider).run("Paris?", output_type=Weather)
    assert result.output == Weather(city="Paris", temp_c=21)
    assert json.loads(result.text) == {"city": "Paris", "temp_c": 21}
    final = provider.requests[0].tools[-1]["function"]
    assert final["name"] == FINAL_ANSWER_TOOL
    assert final["parameters"]["required"] == ["city", "temp_c"]
    assert [r.name for r in result.tool_calls] == ["get_weather"]  # the final answer is no tool


def test_an_invalid_answer_goes_back_with_its_errors_and_is_repaired() -> None:
    provider = ScriptedProvider(
        [
            call(FINAL_ANSWER_TOOL, city="Paris", temp_c="warm"),
            call(FINAL_ANSWER_TOOL, city="Paris", temp_c=22),
        ]
    )
    result = Agent(provider=provider).run("Paris?", output_type=Weather)
    assert result.output.temp_c == 22
    feedback = provider.requests[1].messages[-1]
    assert feedback.role == "tool"
    assert "temp_c" in (feedback.content or "")
    assert result.usage.requests == 2


def test_repairs_are_bounded_then_a_clear_error() -> None:
    provider = ScriptedProvider(["not json", '{"city": 1}', '{"city": "x"}'])
    with pytest.raises(OutputValidationError, match="after 2 repair") as info:
        Agent(provider=provider).run("?", output_type=Weather)
    assert info.value.http_status == 502
    assert any("temp_c" in e for e in info.value.errors)
    assert len(provider.requests) == 3


def test_json_text_answers_dataclasses_typeddicts_and_primitives() -> None:
    agent = Agent(provider=ScriptedProvider(['```json\n{"x": 1, "y": 2.5}\n```']))
    assert agent.run("?", output_type=Point).output == Point(1.0, 2.5)
    agent = Agent(provider=ScriptedProvider([call(FINAL_ANSWER_TOOL, name="Ada", age="36")]))
    assert agent.run("?", output_type=Person).output == {"name": "Ada", "age": 36}
    provider = ScriptedProvider([call(FINAL_ANSWER_TOOL, value=42)])
    assert Agent(provider=provider).run("?", output_type=int).output == 42
    schema = provider.requests[0].tools[-1]["function"]["parameters"]
    assert schema == {
        "type": "object",
        "properties": {"value": {"type": "integer"}},
        "required": ["value"],
    }


def test_a_json_schema_dict_is_validated_with_jsonschema() -> None:
    schema = {
        "type": "object",
        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["tags"],
    }
    provider = ScriptedProvider(
        [call(FINAL_ANSWER_TOOL, tags=[1]), call(FINAL_ANSWER_TOOL, tags=["a"])]
    )
    assert Agent(provider=provider).run("?", output_type=schema).output == {"tags": ["a"]}
    assert "tags/0" in (provider.requests[1].messages[-1].content or "")


def test_without_output_type_output_is_the_text() -> None:
    result = Agent(provider=ScriptedProvider(["hello"])).run("hi")
    assert result.output == "hello"
    assert "parsed" not in result.to_dict()


def test_streaming_sends_the_valid_answer_once() -> None:
    provider = ScriptedProvider(['{"city": "Oslo"}', '{"city": "Oslo", "temp_c": 3}'])
    events = list(Agent(provider=provider).stream("?", output_type=Weather))
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    final = events[-1]
    assert isinstance(final, RunFinished)
    assert final.result.output == Weather(city="Oslo", temp_c=3)
    assert deltas == final.result.text  # the invalid first try never reached the client
    assert final.result.to_dict()["parsed"] == {"city": "Oslo", "temp_c": 3}


async def test_async_run_and_stream() -> None:
    provider = ScriptedProvider([call(FINAL_ANSWER_TOOL, value=["a", "b"])], cycle=True)
    agent = Agent(provider=provider)
    assert (await agent.arun("?", output_type=list[str])).output == ["a", "b"]
    events = [e async for e in agent.astream("?", output_type=list[str])]
    assert events[-1].result.output == ["a", "b"]  # type: ignore[attr-defined]


def test_openai_uses_native_json_schema_and_repairs(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(
        FakeReply(tool_calls=[("get_weather", {"city": "Rome"})]),
        FakeReply(text='{"city": "Rome", "temp_c": "21 C"}'),
        FakeReply(text='{"city": "Rome", "temp_c": 21}'),
    )
    provider = OpenAIProvider("gpt-4o-mini", base_url=openai_server.base_url, max_retries=0)
    result = Agent([get_weather], provider=provider).run("Rome?", output_type=Weather)
    assert result.output == Weather(city="Rome", temp_c=21)
    first = openai_server.requests[0]
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["name"] == "Weather"
    assert first["response_format"]["json_schema"]["schema"]["properties"]["temp_c"] == {
        "title": "Temp C",
        "type": "integer",
    }
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather"]  # no extra tool
    feedback = openai_server.requests[2]["messages"][-1]
    assert feedback["role"] == "user"
    assert "temp_c" in feedback["content"]


def test_anthropic_forces_the_final_answer_tool_and_repairs(
    anthropic_server: FakeAnthropicServer,
) -> None:
    anthropic_server.add(
        AnthropicReply(tool_uses=[(FINAL_ANSWER_TOOL, {"city": "Bern"})]),
        AnthropicReply(tool_uses=[(FINAL_ANSWER_TOOL, {"city": "Bern", "temp_c": 4})]),
    )
    claude = AnthropicProvider(api_key="k", base_url=anthropic_server.base_url, max_retries=0)
    result = Agent([get_weather], provider=claude).run("Bern?", output_type=Weather)
    assert result.output == Weather(city="Bern", temp_c=4)
    first, second = anthropic_server.requests
    assert first["tool_choice"] == {"type": "any"}
    assert [t["name"] for t in first["tools"]] == ["get_weather", FINAL_ANSWER_TOOL]
    returned = second["messages"][-1]["content"][0]
    assert returned["type"] == "tool_result"
    assert returned["tool_use_id"] == "toolu_00"
    assert "temp_c" in returned["content"]
