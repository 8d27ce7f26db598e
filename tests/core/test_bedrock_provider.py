"""BedrockProvider with real boto3 against a local Converse / ConverseStream server."""

from __future__ import annotations

import pytest

from selectools import (
    Agent,
    AgentConfig,
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
from selectools.providers.bedrock import BedrockProvider
from selectools.structured import FINAL_ANSWER_TOOL
from tests.fakes.bedrock_server import BedrockReply, FakeBedrockServer, decoded

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(30))
MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def bedrock(server: FakeBedrockServer, **kwargs: object) -> BedrockProvider:
    kwargs.setdefault("max_retries", 0)
    return BedrockProvider(MODEL, endpoint_url=server.endpoint_url, **kwargs)  # type: ignore[arg-type]


def test_plain_answer_system_prompt_and_usage(bedrock_server: FakeBedrockServer) -> None:
    bedrock_server.add(BedrockReply(text="Hallo.", input_tokens=12, output_tokens=3))
    agent = Agent(provider=bedrock(bedrock_server), system_prompt="Answer in German.")
    result = agent.run("Hello", config={"max_tokens": 50, "temperature": 0.2})
    assert result.text == "Hallo."
    assert (result.usage.input_tokens, result.usage.output_tokens) == (12, 3)
    assert result.provider == "bedrock"
    assert result.cost_usd is not None
    assert result.cost_usd > 0  # Bedrock's own price for the model
    assert bedrock_server.paths[0] == f"/model/{MODEL}/converse"
    sent = bedrock_server.requests[0]
    assert sent["system"] == [{"text": "Answer in German."}]
    assert sent["messages"] == [{"role": "user", "content": [{"text": "Hello"}]}]
    assert sent["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.2}


def test_tool_use_and_parallel_results_in_one_turn(bedrock_server: FakeBedrockServer) -> None:
    bedrock_server.add(
        BedrockReply(
            tool_uses=[("get_weather", {"city": "Nice"}), ("get_weather", {"city": "Oslo"})]
        ),
        BedrockReply(text="Both sunny."),
    )
    result = Agent([get_weather], provider=bedrock(bedrock_server)).run("Nice and Oslo?")
    assert result.text == "Both sunny."
    assert [r.output for r in result.tool_calls] == ["sunny in Nice", "sunny in Oslo"]
    first, second = bedrock_server.requests
    spec = first["toolConfig"]["tools"][0]["toolSpec"]
    assert spec["name"] == "get_weather"
    assert spec["inputSchema"]["json"]["required"] == ["city"]
    assistant, results = second["messages"][1:]
    assert assistant["content"][0] == {
        "toolUse": {"toolUseId": "tooluse_0", "name": "get_weather", "input": {"city": "Nice"}}
    }
    assert results["role"] == "user"
    assert [b["toolResult"]["toolUseId"] for b in results["content"]] == ["tooluse_0", "tooluse_1"]
    assert results["content"][1]["toolResult"]["content"] == [{"text": "sunny in Oslo"}]


def test_streaming_text_and_tool_input_deltas(bedrock_server: FakeBedrockServer) -> None:
    bedrock_server.add(
        BedrockReply(
            text="Checking.",
            tool_uses=[("get_weather", {"city": "Bern"}), ("get_weather", {"city": "Rome"})],
        ),
        BedrockReply(text="Sunny in Bern and Rome.", output_tokens=6),
    )
    events = list(Agent([get_weather], provider=bedrock(bedrock_server)).stream("?"))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == "Checking.Sunny in Bern and Rome."
    assert len(deltas) > 3
    result = events[-1].result  # type: ignore[attr-defined]
    assert [r.arguments for r in result.tool_calls] == [{"city": "Bern"}, {"city": "Rome"}]
    assert result.usage.output_tokens == 8 + 6
    assert bedrock_server.paths[0].endswith("/converse-stream")


async def test_async_complete_and_stream(bedrock_server: FakeBedrockServer) -> None:
    bedrock_server.add(BedrockReply(text="One."), BedrockReply(text="Two words."))
    agent = Agent(provider=bedrock(bedrock_server))
    assert (await agent.arun("1")).text == "One."
    texts = [e.text async for e in agent.astream("2") if isinstance(e, TextDelta)]
    assert "".join(texts) == "Two words."


def test_images_and_documents_are_sent_as_bytes(bedrock_server: FakeBedrockServer) -> None:
    question = Message.user(
        [
            "Compare",
            ContentPart.image(data=PNG),
            ContentPart.file(data=b"%PDF-1.4", filename="q3.pdf"),
        ]
    )
    Agent(provider=bedrock(bedrock_server)).run([question])
    blocks = bedrock_server.requests[0]["messages"][0]["content"]
    assert blocks[1]["image"]["format"] == "png"
    assert decoded(blocks[1]["image"]) == PNG
    assert blocks[2]["document"]["format"] == "pdf"
    assert blocks[2]["document"]["name"] == "q3"
    assert decoded(blocks[2]["document"]) == b"%PDF-1.4"


def test_an_image_url_is_refused_not_dropped(bedrock_server: FakeBedrockServer) -> None:
    question = Message.user(["?", ContentPart.image(url="https://example.com/a.png")])
    with pytest.raises(UnsupportedContentError, match="not a URL"):
        Agent(provider=bedrock(bedrock_server)).run([question])
    assert bedrock_server.count == 0


def test_errors_are_translated(bedrock_server: FakeBedrockServer) -> None:
    bedrock_server.add(
        BedrockReply(status=429, error="ThrottlingException", error_message="Too many requests"),
        BedrockReply(status=403, error="AccessDeniedException", error_message="arn:aws:iam::123"),
        BedrockReply(
            status=400,
            error="ValidationException",
            error_message="Input is too long for requested model.",
        ),
        BedrockReply(status=400, error="ValidationException", error_message="bad field"),
        BedrockReply(status=503, error="ServiceUnavailableException"),
    )
    agent = Agent(provider=bedrock(bedrock_server))

    def fail() -> ProviderError:
        with pytest.raises(ProviderError) as info:
            agent.run("hi")
        return info.value

    throttled = fail()
    assert isinstance(throttled, RateLimitError)
    assert throttled.http_status == 429
    denied = fail()
    assert isinstance(denied, ProviderAuthError)
    assert "123" not in str(denied)
    assert denied.detail == "arn:aws:iam::123"
    assert isinstance(fail(), ContextLengthError)
    invalid = fail()
    assert invalid.http_status == 400
    assert "bad field" not in str(invalid)
    unavailable = fail()
    assert (unavailable.status_code, unavailable.http_status) == (503, 503)
    assert bedrock_server.count == 5  # botocore retried nothing underneath


def test_throttling_mid_stream_is_a_rate_limit(bedrock_server: FakeBedrockServer) -> None:
    bedrock_server.add(BedrockReply(text="Half", stream_error="throttlingException"))
    with pytest.raises(RateLimitError):
        list(Agent(provider=bedrock(bedrock_server)).stream("hi"))


def test_throttling_is_retried_by_the_one_retry_layer(bedrock_server: FakeBedrockServer) -> None:
    from selectools.policies import Retry

    bedrock_server.add(
        BedrockReply(status=429, error="ThrottlingException"), BedrockReply(text="ok!")
    )
    provider = bedrock(bedrock_server, retry=Retry(attempts=2, max_wait=0.01))
    assert Agent(provider=provider).run("hi").text == "ok!"
    assert bedrock_server.count == 2


def test_structured_output_through_the_final_answer_tool(bedrock_server: FakeBedrockServer) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int

    bedrock_server.add(
        BedrockReply(tool_uses=[(FINAL_ANSWER_TOOL, {"name": "Oslo", "population": "many"})]),
        BedrockReply(tool_uses=[(FINAL_ANSWER_TOOL, {"name": "Oslo", "population": 700000})]),
    )
    agent = Agent(provider=bedrock(bedrock_server), config=AgentConfig())
    assert agent.run("Oslo?", output_type=City).output == City(name="Oslo", population=700000)
    returned = bedrock_server.requests[1]["messages"][-1]["content"][0]["toolResult"]
    assert "population" in returned["content"][0]["text"]
