"""AnthropicProvider with the real `anthropic` SDK against a local Messages API."""

from __future__ import annotations

import base64

import pytest

from selectools import (
    Agent,
    AgentConfig,
    AnthropicProvider,
    ContentPart,
    ContextLengthError,
    Message,
    ProviderAuthError,
    ProviderError,
    RateLimitError,
    TextDelta,
    tool,
)
from selectools.content import UnsupportedContentError
from tests.fakes.anthropic_server import AnthropicReply, FakeAnthropicServer

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def provider(server: FakeAnthropicServer, **kwargs: object) -> AnthropicProvider:
    kwargs.setdefault("max_retries", 0)
    return AnthropicProvider(
        "claude-sonnet-5-5",
        api_key="sk-ant-test",
        base_url=server.base_url,
        **kwargs,  # type: ignore[arg-type]
    )


def test_plain_answer_system_prompt_usage_and_cost(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(AnthropicReply(text="Bonjour.", input_tokens=30, output_tokens=4))
    agent = Agent(provider=provider(anthropic_server), system_prompt="Answer in French.")
    result = agent.run("Hello")
    assert result.text == "Bonjour."
    assert (result.usage.input_tokens, result.usage.output_tokens) == (30, 4)
    assert result.cost_usd is not None
    assert result.cost_usd > 0
    assert result.provider == "anthropic"
    sent = anthropic_server.requests[0]
    assert sent["system"] == "Answer in French."
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]
    assert sent["max_tokens"] == 4096
    headers = anthropic_server.headers[0]
    assert "sk-ant-test" in (headers.get("x-api-key"), headers.get("authorization", "")[7:])
    assert anthropic_server.headers[0]["x-stainless-retry-count"] == "0"


def test_tool_call_and_result_round_trip(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(
        AnthropicReply(text="Let me check.", tool_uses=[("get_weather", {"city": "Nice"})]),
        AnthropicReply(text="Sunny."),
    )
    agent = Agent([get_weather], provider=provider(anthropic_server))
    result = agent.run("Weather in Nice?")
    assert result.text == "Sunny."
    assert result.tool_calls[0].output == "sunny in Nice"
    first, second = anthropic_server.requests
    assert first["tools"][0]["name"] == "get_weather"
    assert first["tools"][0]["input_schema"]["properties"]["city"]["type"] == "string"
    assistant, results = second["messages"][1:]
    assert assistant["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_00", "name": "get_weather", "input": {"city": "Nice"}},
    ]
    assert results == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_00", "content": "sunny in Nice"}],
    }


def test_parallel_tool_calls_answer_in_one_user_turn(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(
        AnthropicReply(
            tool_uses=[("get_weather", {"city": "Nice"}), ("get_weather", {"city": "Oslo"})]
        ),
        AnthropicReply(text="Nice sunny, Oslo sunny."),
    )
    agent = Agent([get_weather], provider=provider(anthropic_server))
    result = agent.run("Nice and Oslo?")
    assert [r.output for r in result.tool_calls] == ["sunny in Nice", "sunny in Oslo"]
    turn = anthropic_server.requests[1]["messages"][-1]
    assert turn["role"] == "user"
    assert [(b["type"], b["tool_use_id"]) for b in turn["content"]] == [
        ("tool_result", "toolu_00"),
        ("tool_result", "toolu_01"),
    ]


def test_parallel_calls_can_be_switched_off(anthropic_server: FakeAnthropicServer) -> None:
    agent = Agent(
        [get_weather],
        provider=provider(anthropic_server),
        config=AgentConfig(parallel_tool_calls=False),
    )
    agent.run("hi")
    assert anthropic_server.requests[0]["tool_choice"] == {
        "type": "auto",
        "disable_parallel_tool_use": True,
    }


def test_streaming_text_and_tool_input_deltas(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(
        AnthropicReply(
            text="Checking both.",
            tool_uses=[("get_weather", {"city": "Nice"}), ("get_weather", {"city": "Oslo"})],
        ),
        AnthropicReply(text="Both are sunny today.", output_tokens=5),
    )
    agent = Agent([get_weather], provider=provider(anthropic_server))
    events = list(agent.stream("Nice and Oslo?"))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == "Checking both.Both are sunny today."
    assert len(deltas) > 2  # word by word, not one block
    result = events[-1].result  # type: ignore[attr-defined]
    assert [r.arguments for r in result.tool_calls] == [{"city": "Nice"}, {"city": "Oslo"}]
    assert result.usage.output_tokens == 9 + 5
    assert anthropic_server.requests[0]["stream"] is True


async def test_async_streaming_and_complete(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(
        AnthropicReply(tool_uses=[("get_weather", {"city": "Bern"})]),
        AnthropicReply(text="Sunny in Bern."),
        AnthropicReply(text="Hi."),
    )
    agent = Agent([get_weather], provider=provider(anthropic_server))
    texts = [e.text async for e in agent.astream("Bern?") if isinstance(e, TextDelta)]
    assert "".join(texts) == "Sunny in Bern."
    assert (await agent.arun("hello")).text == "Hi."


def test_images_and_pdfs_become_anthropic_blocks(anthropic_server: FakeAnthropicServer) -> None:
    question = Message.user(
        [
            "Compare",
            ContentPart.image(data=PNG),
            ContentPart.image(url="https://example.com/b.jpg"),
            ContentPart.file(data=b"%PDF-1.4 x", filename="r.pdf"),
        ]
    )
    Agent(provider=provider(anthropic_server)).run([question])
    blocks = anthropic_server.requests[0]["messages"][0]["content"]
    assert blocks[1] == {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(PNG).decode(),
        },
    }
    assert blocks[2] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/b.jpg"},
    }
    assert blocks[3]["type"] == "document"
    assert blocks[3]["title"] == "r.pdf"
    assert base64.b64decode(blocks[3]["source"]["data"]) == b"%PDF-1.4 x"


def test_a_file_claude_cannot_read_is_refused_before_sending(
    anthropic_server: FakeAnthropicServer,
) -> None:
    sheet = ContentPart.file(data=b"PK\x03\x04", media_type="application/zip")
    with pytest.raises(UnsupportedContentError, match="PDF and plain-text"):
        Agent(provider=provider(anthropic_server)).run([Message.user(["x", sheet])])
    assert anthropic_server.count == 0


@pytest.mark.parametrize("stream", [False, True])
def test_errors_are_translated(anthropic_server: FakeAnthropicServer, stream: bool) -> None:
    anthropic_server.add(
        AnthropicReply(
            status=401,
            error_type="authentication_error",
            error_message="invalid x-api-key sk-ant-...abcd",
        ),
        AnthropicReply(status=429, error_type="rate_limit_error", headers={"retry-after": "7"}),
        AnthropicReply(status=529, error_type="overloaded_error", error_message="Overloaded"),
        AnthropicReply(
            status=400,
            error_type="invalid_request_error",
            error_message="prompt is too long: 210000 tokens > 200000 maximum",
        ),
        AnthropicReply(
            status=400, error_type="invalid_request_error", error_message="messages: bad"
        ),
        AnthropicReply(status=500, error_type="api_error"),
    )
    agent = Agent(provider=provider(anthropic_server))

    def go() -> object:
        return list(agent.stream("hi")) if stream else agent.run("hi")

    def fail() -> ProviderError:
        with pytest.raises(ProviderError) as info:
            go()
        return info.value

    auth = fail()
    assert isinstance(auth, ProviderAuthError)
    assert "abcd" not in str(auth)
    assert auth.detail is not None
    assert "abcd" in auth.detail
    limited = fail()
    assert isinstance(limited, RateLimitError)
    assert limited.retry_after == 7.0
    assert limited.http_status == 429
    assert limited.http_headers == {"Retry-After": "7"}
    overloaded = fail()
    assert overloaded.status_code == 529
    assert "overloaded" in str(overloaded)
    assert overloaded.http_status == 503  # retry later, not a broken gateway (502)
    assert isinstance(fail(), ContextLengthError)
    bad = fail()
    assert bad.http_status == 400
    assert "bad" not in str(bad)
    assert fail().http_status == 502


def test_overload_is_retried_by_the_one_retry_layer(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(
        AnthropicReply(status=529, error_type="overloaded_error"),
        AnthropicReply(text="Back."),
    )
    from selectools.policies import Retry

    agent = Agent(provider=provider(anthropic_server, retry=Retry(attempts=2, max_wait=0.01)))
    assert agent.run("hi").text == "Back."
    assert anthropic_server.count == 2  # exactly two: the SDK did not retry underneath


def test_overload_mid_stream_and_cut_streams(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(
        AnthropicReply(text="Half an answer", stream_error="overloaded_error"),
        AnthropicReply(text="Half an answer", cut_after=4),
    )
    agent = Agent(provider=provider(anthropic_server))
    with pytest.raises(ProviderError) as info:
        list(agent.stream("hi"))
    assert info.value.status_code == 529
    with pytest.raises(ProviderError, match="ended before the answer was complete"):
        list(agent.stream("hi"))


def test_no_api_key_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(ProviderAuthError, match="ANTHROPIC_API_KEY"):
        Agent(provider=AnthropicProvider(max_retries=0)).run("hi")
