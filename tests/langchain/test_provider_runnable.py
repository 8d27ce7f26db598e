"""LangChain chat models driving our Agent, and our Agent as a Runnable in LCEL chains."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from selectools import Agent, ScriptedProvider, TextDelta, call, tool
from selectools_langchain import LangChainProvider, as_runnable
from tests.fakes.langchain_models import ToolCallingFakeModel, ai


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


@tool
def get_time(city: str) -> str:
    """Local time in a city."""
    return f"noon in {city}"


def fake_model() -> ToolCallingFakeModel:
    return ToolCallingFakeModel(
        messages=iter(
            [
                ai(calls=[("get_weather", {"city": "Paris"}), ("get_time", {"city": "Oslo"})]),
                ai("Sunny in Paris, noon in Oslo."),
            ]
        )
    )


@pytest.mark.parametrize("mode", ["run", "arun", "stream", "astream"])
async def test_langchain_model_drives_a_full_run(mode: str) -> None:
    model = fake_model()
    agent = Agent([get_weather, get_time], LangChainProvider(model), system_prompt="Be brief.")
    deltas: list[str] = []
    if mode == "run":
        result = agent.run("Weather in Paris, time in Oslo?")
    elif mode == "arun":
        result = await agent.arun("Weather in Paris, time in Oslo?")
    else:
        events = (
            list(agent.stream("Weather in Paris, time in Oslo?"))
            if mode == "stream"
            else [e async for e in agent.astream("Weather in Paris, time in Oslo?")]
        )
        deltas = [e.text for e in events if isinstance(e, TextDelta)]
        result = events[-1].result  # type: ignore[union-attr]
    assert [r.output for r in result.tool_calls] == ["sunny in Paris", "noon in Oslo"]
    assert result.text.strip() == "Sunny in Paris, noon in Oslo."
    assert result.usage.input_tokens == 20
    assert result.usage.requests == 2
    if mode in ("stream", "astream"):
        assert "".join(deltas).strip() == "Sunny in Paris, noon in Oslo."
    # the second model call saw our tool results as LangChain ToolMessages, by id
    second = model.seen[1]
    assert isinstance(second[2], AIMessage)
    assert [m.tool_call_id for m in second if isinstance(m, ToolMessage)] == ["lc_0", "lc_1"]
    assert {t["function"]["name"] for t in model.bound[0]} == {"get_weather", "get_time"}


def test_plain_chat_binds_no_tools() -> None:
    model = ToolCallingFakeModel(messages=iter([ai("hello")]))
    assert Agent(provider=LangChainProvider(model)).run("hi").text == "hello"
    assert model.bound == []


def test_invalid_tool_call_json_goes_back_to_the_model() -> None:
    broken = AIMessage(
        content="",
        invalid_tool_calls=[
            {
                "name": "get_weather",
                "args": '{"city": ',
                "id": "x1",
                "error": "bad json",
                "type": "invalid_tool_call",
            }
        ],
    )
    model = ToolCallingFakeModel(messages=iter([broken, ai("sorry")]))
    result = Agent([get_weather], LangChainProvider(model)).run("go")
    assert result.tool_calls[0].error_type == "invalid_arguments"


# -- the agent as a Runnable --------------------------------------------------------


def echo_agent() -> Agent:
    def respond(request: Any) -> Any:
        last = request.messages[-1]
        if last.role == "tool":
            return f"weather: {last.content}"
        if "weather" in (last.content or ""):
            return [call("get_weather", city="Rome")]
        return f"echo: {last.content}"

    return Agent([get_weather], ScriptedProvider(responder=respond))


def test_runnable_invoke_and_metadata() -> None:
    runnable = as_runnable(echo_agent())
    message = runnable.invoke("what is the weather?")
    assert isinstance(message, AIMessage)
    assert message.content == "weather: sunny in Rome"
    details = message.response_metadata["selectools"]
    assert details["tool_calls"][0]["name"] == "get_weather"
    assert message.usage_metadata is not None
    assert runnable.invoke([HumanMessage("hi")]).content == "echo: hi"
    assert runnable.invoke({"input": "hey"}).content == "echo: hey"


async def test_runnable_ainvoke_stream_astream_batch() -> None:
    runnable = as_runnable(echo_agent())
    assert (await runnable.ainvoke("a")).content == "echo: a"
    chunks = list(runnable.stream("b c"))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(str(c.content) for c in chunks) == "echo: b c"
    achunks = [c async for c in runnable.astream("d")]
    assert "".join(str(c.content) for c in achunks) == "echo: d"
    assert [m.content for m in runnable.batch(["x", "y", "z"])] == ["echo: x", "echo: y", "echo: z"]
    assert [m.content for m in await runnable.abatch(["p", "q"])] == ["echo: p", "echo: q"]


def test_runnable_inside_an_lcel_chain() -> None:
    prompt = ChatPromptTemplate.from_messages([("human", "Tell me the {topic}")])
    chain = prompt | as_runnable(echo_agent()) | StrOutputParser()
    assert chain.invoke({"topic": "weather"}) == "weather: sunny in Rome"
    assert chain.invoke({"topic": "news"}) == "echo: Tell me the news"


def test_runnable_sessions_via_configurable() -> None:
    agent = Agent(provider=ScriptedProvider(["one", "two"]))
    runnable = as_runnable(agent)
    config: Any = {"configurable": {"session_id": "lc-1"}}
    runnable.invoke("first", config=config)
    runnable.invoke("second", config=config)
    stored = agent.memory.store.load("lc-1")
    assert stored is not None
    assert [m.content for m in stored.messages] == ["first", "one", "second", "two"]
