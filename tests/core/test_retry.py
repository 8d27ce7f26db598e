"""Retries: one layer, bounded in attempts and time, through the real openai client."""

from __future__ import annotations

from typing import Any

import pytest

from selectools import (
    Agent,
    AgentConfig,
    ContextLengthError,
    OpenAIProvider,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    RunTimeoutError,
    ScriptedProvider,
    TextDelta,
)
from selectools.policies import LogCalls, Retry, RetryScheduled
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply, refused_url

FAIL_500 = FakeReply(status=500, error={"message": "upstream exploded", "type": "server_error"})
QUICK = {"initial_wait": 0.01, "max_wait": 0.05}


def provider(url: str, **kwargs: Any) -> OpenAIProvider:
    return OpenAIProvider("gpt-4o-mini", api_key="sk-test", base_url=url, **kwargs)


def retrying(url: str, attempts: int = 3, **kwargs: Any) -> tuple[OpenAIProvider, list[Any]]:
    """A provider retrying with short waits; the list collects each RetryScheduled."""
    seen: list[RetryScheduled] = []
    options = {**QUICK, **kwargs}
    retry = Retry(attempts, on_retry=seen.append, **options)
    return provider(url, retry=retry), seen


def test_the_sdk_never_retries_too(openai_server: FakeOpenAIServer) -> None:
    # Two layers (the SDK's default max_retries=2 under three attempts of ours) would
    # make 9 requests; exactly one layer makes 3.
    openai_server.default = FAIL_500
    agent = Agent(provider=provider(openai_server.base_url, max_retries=2))
    agent.provider.retry.initial_wait = 0.01  # type: ignore[attr-defined]
    with pytest.raises(ProviderError) as caught:
        agent.run("hi")
    assert caught.value.status_code == 500
    assert openai_server.count == 3


def test_max_retries_zero_makes_one_request(openai_server: FakeOpenAIServer) -> None:
    openai_server.default = FAIL_500
    with pytest.raises(ProviderError):
        Agent(provider=provider(openai_server.base_url, max_retries=0)).run("hi")
    assert openai_server.count == 1


@pytest.mark.parametrize("mode", ["run", "arun", "stream", "astream"])
async def test_a_5xx_is_retried_until_an_answer(openai_server: FakeOpenAIServer, mode: str) -> None:
    openai_server.add(FAIL_500, FakeReply(status=503), FakeReply(text="recovered at last"))
    model, seen = retrying(openai_server.base_url)
    agent = Agent(provider=model)
    if mode == "run":
        text = agent.run("hi").text
    elif mode == "arun":
        text = (await agent.arun("hi")).text
    elif mode == "stream":
        text = "".join(e.text for e in agent.stream("hi") if isinstance(e, TextDelta))
    else:
        text = "".join([e.text async for e in agent.astream("hi") if isinstance(e, TextDelta)])
    assert text.strip() == "recovered at last"
    assert openai_server.count == 3
    assert [(s.attempt, type(s.error)) for s in seen] == [(1, ProviderError), (2, ProviderError)]


def test_retry_after_is_honoured(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(
        FakeReply(status=429, headers={"retry-after": "1"}, error={"message": "slow down"}),
        FakeReply(text="ok"),
    )
    model, seen = retrying(openai_server.base_url)
    assert Agent(provider=model).run("hi").text == "ok"
    assert openai_server.count == 2
    (scheduled,) = seen
    assert isinstance(scheduled.error, RateLimitError)
    assert scheduled.wait >= 1.0  # the jittered backoff alone stays under 0.05 s


def test_a_retry_after_beyond_the_time_budget_gives_up_at_once(
    openai_server: FakeOpenAIServer,
) -> None:
    openai_server.default = FakeReply(status=429, headers={"retry-after": "30"})
    model, seen = retrying(openai_server.base_url, attempts=5, max_time=5)
    with pytest.raises(RateLimitError) as caught:
        Agent(provider=model).run("hi")
    assert caught.value.retry_after == 30
    assert caught.value.http_headers == {"Retry-After": "30"}
    assert openai_server.count == 1
    assert seen == []


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (FakeReply(status=400, error={"message": "bad input"}), ProviderError),
        (FakeReply(status=401, error={"message": "bad key"}), ProviderAuthError),
        (FakeReply(status=403, error={"message": "forbidden"}), ProviderAuthError),
        (
            FakeReply(
                status=400,
                error={"message": "too long", "code": "context_length_exceeded"},
            ),
            ContextLengthError,
        ),
        (
            FakeReply(
                status=429, error={"message": "no credit left", "code": "insufficient_quota"}
            ),
            ProviderError,
        ),
    ],
)
def test_errors_about_the_request_are_never_retried(
    openai_server: FakeOpenAIServer, reply: FakeReply, error: type[Exception]
) -> None:
    openai_server.default = reply
    model, seen = retrying(openai_server.base_url, attempts=5)
    with pytest.raises(error):
        Agent(provider=model).run("hi")
    assert openai_server.count == 1
    assert seen == []


def test_a_hanging_server_is_bounded_by_the_time_budget(openai_server: FakeOpenAIServer) -> None:
    # The server would answer after 30 s; the budget of 1 s ends the only attempt
    # (its timeout is the time left), and no second attempt fits.
    openai_server.default = FakeReply(text="too late", delay=30)
    model, seen = retrying(openai_server.base_url, attempts=5, max_time=1)
    with pytest.raises(ProviderTimeoutError):
        Agent(provider=model).run("hi")
    assert openai_server.count == 1
    assert seen == []


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_the_run_timeout_bounds_retries_too(
    openai_server: FakeOpenAIServer, mode: str
) -> None:
    openai_server.default = FakeReply(text="too late", delay=30)
    model, _ = retrying(openai_server.base_url, attempts=5, max_time=600)
    agent = Agent(provider=model, config=AgentConfig(run_timeout=1))
    with pytest.raises((RunTimeoutError, ProviderTimeoutError)):
        agent.run("hi") if mode == "run" else await agent.arun("hi")
    assert openai_server.count == 1


def test_a_refused_connection_is_retried_then_raised() -> None:
    model, seen = retrying(refused_url(), attempts=3)
    with pytest.raises(ProviderConnectionError):
        Agent(provider=model).run("hi")
    assert [s.attempt for s in seen] == [1, 2]


def test_a_stream_cut_after_text_is_not_retried(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="one two three four", cut_after=3), FakeReply(text="again"))
    model, seen = retrying(openai_server.base_url)
    deltas: list[str] = []

    def consume() -> None:
        for event in Agent(provider=model).stream("hi"):
            if isinstance(event, TextDelta):
                deltas.append(event.text)

    with pytest.raises(ProviderConnectionError):
        consume()
    assert deltas == ["one ", "two "]  # shown once, never repeated by a second attempt
    assert openai_server.count == 1
    assert seen == []


def test_retry_as_an_agent_policy(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FAIL_500, FakeReply(text="fine"))
    bare = provider(openai_server.base_url, max_retries=0)
    agent = Agent(provider=bare, policies=[LogCalls(), Retry(**QUICK)])
    assert agent.run("hi").text == "fine"
    assert openai_server.count == 2


def test_a_second_retry_layer_is_refused() -> None:
    with pytest.raises(ValueError, match="already retries"):
        Agent(provider=provider("http://127.0.0.1:9/v1"), policies=[Retry()]).run("hi")
    with pytest.raises(ValueError, match="already retries"):
        Retry().wrap(Retry().wrap(ScriptedProvider(["x"])))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="attempts"):
        Retry(0)
    with pytest.raises(ValueError, match="max_time"):
        Retry(max_time=0)
