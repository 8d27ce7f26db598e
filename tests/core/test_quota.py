"""Quotas: per-identity daily token and cost budgets, charged with real usage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from selectools import Agent, OpenAIProvider, QuotaExceededError, Usage
from selectools.policies import Quota
from selectools.usage import estimate_cost
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

TOKENS_PER_CALL = 18  # the fake server's usage: 11 in, 7 out


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest, unique_name: str) -> Iterator[dict[str, Any]]:
    if request.param == "memory":
        yield {"namespace": unique_name}
        return
    url = request.getfixturevalue("redis_url")
    yield {"storage": url, "namespace": unique_name}
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"*{unique_name}*"):
        client.delete(key)


def agent_with(server: FakeOpenAIServer, quota: Quota) -> Agent:
    provider = OpenAIProvider("gpt-4o-mini", api_key="sk-test", base_url=server.base_url)
    return Agent(provider=provider, policies=[quota])


@pytest.mark.parametrize("mode", ["run", "arun", "stream", "astream"])
async def test_a_used_up_token_quota_stops_new_calls(
    openai_server: FakeOpenAIServer, storage: dict[str, Any], mode: str
) -> None:
    openai_server.default = FakeReply(text="answer")
    quota = Quota(tokens_per_day=2 * TOKENS_PER_CALL, **storage)
    agent = agent_with(openai_server, quota)

    async def run_once() -> None:
        if mode == "run":
            agent.run("hi", identity="alice")
        elif mode == "arun":
            await agent.arun("hi", identity="alice")
        elif mode == "stream":
            list(agent.stream("hi", identity="alice"))
        else:
            _ = [e async for e in agent.astream("hi", identity="alice")]

    await run_once()
    await run_once()
    assert quota.used("alice").tokens == 2 * TOKENS_PER_CALL
    with pytest.raises(QuotaExceededError) as caught:
        await run_once()
    assert openai_server.count == 2  # refused before any request
    error = caught.value
    assert (error.http_status, error.error_type) == (429, "quota_exceeded")
    assert 0 < int(error.http_headers["Retry-After"]) <= 86_400
    assert "alice" in str(error)
    agent.run("hi", identity="bob")  # bob's budget is his own
    assert quota.used("bob").tokens == TOKENS_PER_CALL


def test_a_cost_quota_counts_dollars(
    openai_server: FakeOpenAIServer, storage: dict[str, Any]
) -> None:
    openai_server.default = FakeReply(text="answer")
    per_call = estimate_cost("gpt-4o-mini", 11, 7)
    assert per_call
    quota = Quota(usd_per_day=per_call * 1.5, **storage)
    agent = agent_with(openai_server, quota)
    agent.run("hi", identity="dave")
    assert quota.used("dave").usd == pytest.approx(per_call, abs=1e-6)
    agent.run("hi", identity="dave")  # 1.0 of 1.5 used: still allowed
    with pytest.raises(QuotaExceededError, match=r"\$"):
        agent.run("hi", identity="dave")
    assert openai_server.count == 2


def test_serving_style_check_then_charge(storage: dict[str, Any]) -> None:
    quota = Quota(tokens_per_day=100, **storage)
    quota.check("erin")
    quota.charge("erin", Usage(input_tokens=60, output_tokens=50, cost_usd=None))
    with pytest.raises(QuotaExceededError):
        quota.check("erin")
    quota.check(None)  # anonymous callers have their own budget


def test_two_workers_share_a_redis_quota(redis_url: str, unique_name: str) -> None:
    worker_a = Quota(tokens_per_day=10, storage=redis_url, namespace=unique_name)
    worker_b = Quota(tokens_per_day=10, storage=redis_url, namespace=unique_name)
    worker_a.charge("frank", Usage(input_tokens=10))
    with pytest.raises(QuotaExceededError):
        worker_b.check("frank")


def test_needs_a_budget() -> None:
    with pytest.raises(ValueError, match="tokens_per_day"):
        Quota()
