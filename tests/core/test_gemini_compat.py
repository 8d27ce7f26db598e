"""Gemini through its OpenAI-compatible endpoint, with OpenAIProvider and the fake server."""

from __future__ import annotations

from selectools import Agent, OpenAIProvider, TextDelta, tool
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def gemini(server: FakeOpenAIServer) -> OpenAIProvider:
    return OpenAIProvider(
        "gemini-2.5-flash", base_url=server.base_url, api_key="gm-key", max_retries=0
    )


def test_gemini_tool_calls_streaming_and_price(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(
        FakeReply(
            tool_calls=[("get_weather", {"city": "Rome"}), ("get_weather", {"city": "Oslo"})]
        ),
        FakeReply(text="Sunny in both."),
    )
    agent = Agent([get_weather], provider=gemini(openai_server))
    events = list(agent.stream("Rome and Oslo?"))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip() == "Sunny in both."
    result = events[-1].result  # type: ignore[attr-defined]
    assert [r.output for r in result.tool_calls] == ["sunny in Rome", "sunny in Oslo"]
    assert result.model == "gemini-2.5-flash"
    assert result.cost_usd is not None
    assert result.cost_usd > 0  # priced as Gemini, though reached by base_url
    assert openai_server.requests[0]["_authorization"] == "Bearer gm-key"
