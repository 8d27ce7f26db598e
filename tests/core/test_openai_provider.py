"""OpenAIProvider through the real `openai` client against a local fake server."""

from __future__ import annotations

import pytest

from selectools import (
    Agent,
    ContextLengthError,
    OpenAIProvider,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    RateLimitError,
    TextDelta,
    tool,
)
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


@tool
def get_time(city: str) -> str:
    """Local time in a city."""
    return f"noon in {city}"


def make_agent(server: FakeOpenAIServer, **kwargs: object) -> Agent:
    provider = OpenAIProvider(
        "gpt-4o-mini", api_key="sk-test", base_url=server.base_url, max_retries=0, **kwargs
    )
    return Agent([get_weather, get_time], provider)


def test_complete_with_parallel_tool_calls(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(
        FakeReply(tool_calls=[("get_weather", {"city": "Paris"}), ("get_time", {"city": "Oslo"})]),
        FakeReply(text="Sunny in Paris, noon in Oslo."),
    )
    result = make_agent(openai_server).run("Weather in Paris and time in Oslo?")
    assert result.text == "Sunny in Paris, noon in Oslo."
    assert [r.output for r in result.tool_calls] == ["sunny in Paris", "noon in Oslo"]
    first, second = openai_server.requests
    assert first["_authorization"] == "Bearer sk-test"
    assert first["model"] == "gpt-4o-mini"
    assert {t["function"]["name"] for t in first["tools"]} == {"get_weather", "get_time"}
    # the second request carries the assistant tool calls and both results, by id
    roles = [m["role"] for m in second["messages"]]
    assert roles == ["user", "assistant", "tool", "tool"]
    assert [m["tool_call_id"] for m in second["messages"][2:]] == ["call_0", "call_1"]
    assert result.usage.input_tokens == 22
    assert result.usage.output_tokens == 14
    assert result.cost_usd is not None  # a known model has a price


async def test_stream_assembles_interleaved_tool_call_deltas(
    openai_server: FakeOpenAIServer,
) -> None:
    openai_server.add(
        FakeReply(tool_calls=[("get_weather", {"city": "Paris"}), ("get_time", {"city": "Rome"})]),
        FakeReply(text="All done here."),
    )
    agent = make_agent(openai_server)
    events = [event async for event in agent.astream("go")]
    result = events[-1].result  # type: ignore[union-attr]
    assert [r.output for r in result.tool_calls] == ["sunny in Paris", "noon in Rome"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "All done here. "
    assert openai_server.requests[0]["stream_options"] == {"include_usage": True}
    assert result.usage.requests == 2
    assert result.usage.input_tokens == 22


def test_sync_stream(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(
        FakeReply(tool_calls=[("get_weather", {"city": "Lima"})]), FakeReply(text="ok")
    )
    events = list(make_agent(openai_server).stream("go"))
    assert events[-1].result.tool_calls[0].output == "sunny in Lima"  # type: ignore[union-attr]


def test_broken_json_from_the_model_goes_back_as_a_tool_error(
    openai_server: FakeOpenAIServer,
) -> None:
    openai_server.add(
        FakeReply(tool_calls=[("get_weather", '{"city": "Par')]), FakeReply(text="Sorry.")
    )
    result = make_agent(openai_server).run("go")
    assert result.tool_calls[0].error_type == "invalid_arguments"
    tool_message = openai_server.requests[1]["messages"][-1]
    assert tool_message["content"].startswith("Error: Arguments for tool 'get_weather'")


@pytest.mark.parametrize(
    ("status", "error", "headers", "expected", "fragment"),
    [
        (401, {"message": "Incorrect API key provided"}, {}, ProviderAuthError, "rejected"),
        (429, {"message": "Slow down"}, {"retry-after": "7"}, RateLimitError, "rate limiting"),
        (500, {"message": "upstream exploded"}, {}, ProviderError, "HTTP 500"),
        (400, {"message": "Unrecognized request argument"}, {}, ProviderError, "HTTP 400"),
        (
            400,
            {"message": "maximum context length is 8192", "code": "context_length_exceeded"},
            {},
            ContextLengthError,
            "too long for model",
        ),
    ],
)
@pytest.mark.parametrize("mode", ["sync", "async", "stream"])
async def test_server_errors_are_translated(
    openai_server: FakeOpenAIServer,
    status: int,
    error: dict[str, str],
    headers: dict[str, str],
    expected: type[Exception],
    fragment: str,
    mode: str,
) -> None:
    openai_server.add(FakeReply(status=status, error=error, headers=headers))
    agent = make_agent(openai_server)

    async def attempt() -> None:
        if mode == "sync":
            agent.run("go")
        elif mode == "async":
            await agent.arun("go")
        else:
            [e async for e in agent.astream("go")]

    with pytest.raises(expected) as info:
        await attempt()
    assert fragment in str(info.value)
    assert error["message"] not in str(info.value)  # clients see our words, not upstream text
    assert info.value.detail == error["message"]  # type: ignore[attr-defined]
    if isinstance(info.value, RateLimitError):
        assert info.value.retry_after == 7.0


def test_retries_are_the_sdks_and_recover(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(
        FakeReply(status=500, error={"message": "blip"}, headers={"retry-after-ms": "1"}),
        FakeReply(text="fine"),
    )
    provider = OpenAIProvider("gpt-4o-mini", api_key="k", base_url=openai_server.base_url)
    assert Agent(provider=provider).run("go").text == "fine"
    assert len(openai_server.requests) == 2


def test_unreachable_server_is_a_connection_error() -> None:
    provider = OpenAIProvider(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(ProviderConnectionError, match="Could not reach"):
        Agent(provider=provider).run("go")


def test_local_servers_need_no_key(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    openai_server.add(FakeReply(text="hi from llama"))
    provider = OpenAIProvider("llama3.2", base_url=openai_server.base_url)
    result = Agent(provider=provider).run("hi")
    assert result.text == "hi from llama"
    assert result.cost_usd is None  # an unknown model's price is unknown, not free


def test_missing_key_for_openai_says_how_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ProviderAuthError, match="Set OPENAI_API_KEY"):
        Agent(provider=OpenAIProvider()).run("hi")


def test_provider_owns_its_default_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SELECTOOLS_MODEL", raising=False)
    assert OpenAIProvider().model == "gpt-4o-mini"
    assert OpenAIProvider("qwen2.5").model == "qwen2.5"


async def test_abandoned_stream_closes_the_upstream_response(
    openai_server: FakeOpenAIServer,
) -> None:
    """A consumer that stops reading must not leave the provider's HTTP stream open."""
    import asyncio

    words = " ".join(f"word{i}" for i in range(200))
    openai_server.add(FakeReply(text=words, chunk_delay=0.01))
    stream = make_agent(openai_server).astream("go")
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    for _ in range(300):  # the server notices on its next write
        if openai_server.disconnects:
            break
        await asyncio.sleep(0.01)
    assert openai_server.disconnects == 1


@pytest.mark.parametrize("fault", ["not_json", "empty_stream", "cut_stream"])
@pytest.mark.parametrize("mode", ["sync", "async", "sync-stream", "async-stream"])
async def test_unreadable_or_incomplete_answers_are_provider_errors(
    openai_server: FakeOpenAIServer, fault: str, mode: str
) -> None:
    """A proxy's HTML page with status 200, a stream with no events or cut mid-answer: each
    is a ProviderError (502), never a bare exception or an empty 'successful' answer."""
    openai_server.add(FakeReply(fault=fault))  # type: ignore[arg-type]
    agent = make_agent(openai_server)

    async def attempt() -> None:
        if mode == "sync":
            agent.run("go")
        elif mode == "async":
            await agent.arun("go")
        elif mode == "sync-stream":
            list(agent.stream("go"))
        else:
            [e async for e in agent.astream("go")]

    with pytest.raises(ProviderError) as info:
        await attempt()
    assert info.value.http_status == 502
    assert "model server" in str(info.value)


async def test_upstream_error_text_reaches_the_log_not_the_message(
    openai_server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Incorrect API key provided: sk-proj-****abcd. Organization org-SECRET123."
    openai_server.add(FakeReply(status=401, error={"message": secret}))
    with (
        caplog.at_level("WARNING", logger="selectools.providers.openai"),
        pytest.raises(ProviderAuthError) as info,
    ):
        await make_agent(openai_server).arun("go")
    assert "org-SECRET123" not in str(info.value)
    assert "abcd" not in str(info.value)
    assert "org-SECRET123" in caplog.text


def test_async_runs_in_one_fresh_event_loop_after_another(
    openai_server: FakeOpenAIServer,
) -> None:
    """`asyncio.run` per job (scripts, CLIs, Celery, per-test loops): the client is per loop."""
    import asyncio

    openai_server.add(*(FakeReply(text=f"answer {i}") for i in range(3)))
    agent = make_agent(openai_server)
    answers = [asyncio.run(agent.arun("go")).text for _ in range(3)]
    assert answers == ["answer 0", "answer 1", "answer 2"]
