"""FallbackProvider: the next provider answers when one is down, counted on each fake server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from selectools import (
    Agent,
    OpenAIProvider,
    ProviderConnectionError,
    ProviderError,
    ProviderUnavailableError,
    TextDelta,
)
from selectools.providers import FallbackProvider
from selectools.usage import estimate_cost
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply, refused_url

FAIL_500 = FakeReply(status=500, error={"message": "org-secret123 exploded"})


@pytest.fixture
def backup_server() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


def member(url: str, name: str, model: str = "gpt-4o-mini", **kwargs: Any) -> OpenAIProvider:
    return OpenAIProvider(
        model, api_key="sk-test", base_url=url, name=name, max_retries=0, **kwargs
    )


async def answer(agent: Agent, mode: str) -> tuple[str, str]:
    """(text, provider) of one run in `mode`."""
    if mode == "run":
        result = agent.run("hi")
    elif mode == "arun":
        result = await agent.arun("hi")
    elif mode == "stream":
        events = list(agent.stream("hi"))
        result = events[-1].result  # type: ignore[union-attr]
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == result.text
    else:
        events = [e async for e in agent.astream("hi")]
        result = events[-1].result  # type: ignore[union-attr]
        assert "".join(e.text for e in events if isinstance(e, TextDelta)) == result.text
    return result.text.strip(), result.provider


MODES = ["run", "arun", "stream", "astream"]


async def collect_deltas(agent: Agent, mode: str, into: list[str]) -> None:
    if mode == "stream":
        into.extend(e.text for e in agent.stream("hi") if isinstance(e, TextDelta))
        return
    async for event in agent.astream("hi"):
        if isinstance(event, TextDelta):
            into.append(event.text)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "failure",
    [
        FAIL_500,
        FakeReply(status=503),
        FakeReply(status=429, headers={"retry-after": "20"}),
        FakeReply(status=401, error={"message": "bad key"}),
    ],
    ids=["500", "503", "429", "401"],
)
async def test_the_backup_answers_when_the_primary_fails(
    openai_server: FakeOpenAIServer,
    backup_server: FakeOpenAIServer,
    mode: str,
    failure: FakeReply,
) -> None:
    openai_server.add(failure)
    backup_server.add(FakeReply(text="from the backup"))
    fallback = FallbackProvider(
        member(openai_server.base_url, "primary"), member(backup_server.base_url, "backup")
    )
    text, answered_by = await answer(Agent(provider=fallback), mode)
    assert (text, answered_by) == ("from the backup", "backup")
    assert (openai_server.count, backup_server.count) == (1, 1)


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_a_stream_cut_before_any_text_falls_back(
    openai_server: FakeOpenAIServer, backup_server: FakeOpenAIServer, mode: str
) -> None:
    openai_server.add(FakeReply(text="never sent", cut_after=1))  # only the role chunk went out
    backup_server.add(FakeReply(text="from the backup"))
    fallback = FallbackProvider(
        member(openai_server.base_url, "primary"), member(backup_server.base_url, "backup")
    )
    assert await answer(Agent(provider=fallback), mode) == ("from the backup", "backup")
    assert (openai_server.count, backup_server.count) == (1, 1)


@pytest.mark.parametrize("mode", MODES)
async def test_a_refused_connection_falls_back(backup_server: FakeOpenAIServer, mode: str) -> None:
    backup_server.add(FakeReply(text="still here"))
    fallback = FallbackProvider(
        [member(refused_url(), "primary"), member(backup_server.base_url, "backup")]
    )
    assert await answer(Agent(provider=fallback), mode) == ("still here", "backup")


def test_order_is_kept_and_the_first_healthy_provider_answers(
    openai_server: FakeOpenAIServer, backup_server: FakeOpenAIServer
) -> None:
    openai_server.default = FakeReply(text="primary answers")
    backup_server.default = FakeReply(text="backup answers")
    fallback = FallbackProvider(
        member(refused_url(), "down"),
        member(openai_server.base_url, "primary"),
        member(backup_server.base_url, "backup"),
    )
    result = Agent(provider=fallback).run("hi")
    assert (result.text, result.provider) == ("primary answers", "primary")
    assert (openai_server.count, backup_server.count) == (1, 0)


def test_bad_input_is_not_sent_to_the_backup(
    openai_server: FakeOpenAIServer, backup_server: FakeOpenAIServer
) -> None:
    openai_server.add(FakeReply(status=400, error={"message": "messages[0] is invalid"}))
    fallback = FallbackProvider(
        member(openai_server.base_url, "primary"), member(backup_server.base_url, "backup")
    )
    with pytest.raises(ProviderError) as caught:
        Agent(provider=fallback).run("hi")
    assert caught.value.status_code == 400
    assert backup_server.count == 0


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_text_already_streamed_is_never_followed_by_a_second_answer(
    openai_server: FakeOpenAIServer, backup_server: FakeOpenAIServer, mode: str
) -> None:
    openai_server.add(FakeReply(text="one two three four", cut_after=3))
    fallback = FallbackProvider(
        member(openai_server.base_url, "primary"), member(backup_server.base_url, "backup")
    )
    agent = Agent(provider=fallback)
    deltas: list[str] = []
    with pytest.raises(ProviderConnectionError):
        await collect_deltas(agent, mode, deltas)
    assert deltas == ["one ", "two "]
    assert backup_server.count == 0


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_every_provider_down_is_a_503_with_retry_after(
    openai_server: FakeOpenAIServer, backup_server: FakeOpenAIServer, mode: str
) -> None:
    openai_server.add(FAIL_500)
    backup_server.add(FakeReply(status=429, headers={"retry-after": "7"}))
    fallback = FallbackProvider(
        member(openai_server.base_url, "primary"),
        member(backup_server.base_url, "backup"),
        member(refused_url(), "spare"),
    )
    agent = Agent(provider=fallback)
    with pytest.raises(ProviderUnavailableError) as caught:
        agent.run("hi") if mode == "run" else await agent.arun("hi")
    error = caught.value
    assert (error.http_status, error.error_type) == (503, "provider_unavailable")
    assert error.http_headers == {"Retry-After": "7"}  # the soonest a provider named
    assert [type(e).__name__ for e in error.errors] == [
        "ProviderError",
        "RateLimitError",
        "ProviderConnectionError",
    ]
    assert "primary" in str(error)
    assert "spare" in str(error)
    assert "org-secret123" not in str(error)  # upstream text stays in the log


def test_without_a_retry_after_the_configured_one_is_used(
    openai_server: FakeOpenAIServer,
) -> None:
    openai_server.default = FAIL_500
    fallback = FallbackProvider(member(openai_server.base_url, "only"), retry_after=12)
    with pytest.raises(ProviderUnavailableError) as caught:
        Agent(provider=fallback).run("hi")
    assert caught.value.http_headers == {"Retry-After": "12"}


def test_cost_is_priced_at_the_model_that_answered(
    openai_server: FakeOpenAIServer, backup_server: FakeOpenAIServer
) -> None:
    openai_server.add(FAIL_500)
    backup_server.add(FakeReply(text="cheap answer"))
    fallback = FallbackProvider(
        member(openai_server.base_url, "primary", model="gpt-4o"),
        member(backup_server.base_url, "backup", model="gpt-4o-mini"),
    )
    result = Agent(provider=fallback).run("hi")
    assert result.model == "gpt-4o-mini"
    assert result.usage.cost_usd == estimate_cost("gpt-4o-mini", 11, 7)
    assert result.usage.cost_usd != estimate_cost("gpt-4o", 11, 7)
    assert result.to_dict()["provider"] == "backup"


def test_each_provider_retries_on_its_own_before_falling_back(
    openai_server: FakeOpenAIServer, backup_server: FakeOpenAIServer
) -> None:
    from selectools.policies import Retry

    openai_server.default = FAIL_500
    backup_server.add(FakeReply(text="ok"))
    primary = member(openai_server.base_url, "primary", retry=Retry(2, initial_wait=0.01))
    fallback = FallbackProvider(primary, member(backup_server.base_url, "backup"))
    assert Agent(provider=fallback).run("hi").text == "ok"
    assert (openai_server.count, backup_server.count) == (2, 1)


def test_needs_a_provider() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FallbackProvider([])
