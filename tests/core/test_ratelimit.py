"""Rate limits: per tool the model reads why; per caller a 429 with Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from selectools import Agent, RateLimitedError, ScriptedProvider, call, tool
from selectools.policies import RateLimiter, ToolRateLimit

sent: list[str] = []


def send_sms(to: str) -> str:
    """Send a text message."""
    sent.append(to)
    return f"sent to {to}"


@pytest.fixture(autouse=True)
def _reset() -> None:
    sent.clear()


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest, unique_name: str) -> Iterator[dict[str, Any]]:
    """Limiter settings in this process, or in Redis under a fresh namespace."""
    if request.param == "memory":
        yield {"namespace": unique_name}
        return
    url = request.getfixturevalue("redis_url")
    yield {"storage": url, "namespace": unique_name}
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"*{unique_name}*"):
        client.delete(key)


def sms_script(*numbers: str) -> ScriptedProvider:
    return ScriptedProvider([*(call("send_sms", to=n) for n in numbers), "done"])


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_over_a_tool_limit_the_model_reads_a_tool_error(
    storage: dict[str, Any], mode: str
) -> None:
    limited = tool(policies=[ToolRateLimit("2/minute", **storage)])(send_sms)
    agent = Agent([limited], sms_script("+1", "+2", "+3"))
    result = agent.run("text them") if mode == "run" else await agent.arun("text them")
    assert result.text == "done"  # the run goes on
    assert sent == ["+1", "+2"]
    third = result.tool_calls[2]
    assert third.error_type == "rate_limited"
    assert "rate limited (2/minute)" in third.output
    assert "again in" in third.output


def test_the_tool_shorthand() -> None:
    limited = tool(rate_limit="1/minute")(send_sms)
    result = Agent([limited], sms_script("+1", "+2")).run("go")
    assert sent == ["+1"]
    assert result.tool_calls[1].error_type == "rate_limited"


def test_per_identity_tool_limits(storage: dict[str, Any]) -> None:
    policy = ToolRateLimit("1/minute", per_identity=True, **storage)
    limited = tool(policies=[policy])(send_sms)
    model = ScriptedProvider([call("send_sms", to="x"), "done"], cycle=True)
    agent = Agent([limited], model)
    agent.run("go", identity="alice")
    agent.run("go", identity="bob")
    refused = agent.run("go", identity="alice")
    assert sent == ["x", "x"]
    assert refused.tool_calls[0].error_type == "rate_limited"


def test_two_workers_count_together_in_redis(redis_url: str, unique_name: str) -> None:
    def worker() -> Agent:
        policy = ToolRateLimit("3/minute", storage=redis_url, namespace=unique_name)
        return Agent([tool(policies=[policy])(send_sms)], sms_script("a", "b"))

    worker().run("go")
    result = worker().run("go")
    assert sent == ["a", "b", "a"]
    assert result.tool_calls[1].error_type == "rate_limited"


@pytest.mark.parametrize("strategy", ["moving-window", "fixed-window"])
def test_a_caller_over_the_limit_gets_a_429(storage: dict[str, Any], strategy: Any) -> None:
    limiter = RateLimiter("3/minute", strategy=strategy, **storage)
    for _ in range(3):
        limiter.check("alice")
    with pytest.raises(RateLimitedError) as caught:
        limiter.check("alice", who="Caller alice")
    error = caught.value
    assert (error.http_status, error.error_type) == (429, "rate_limited")
    assert 0 < error.retry_after <= 60  # type: ignore[operator]
    assert 1 <= int(error.http_headers["Retry-After"]) <= 60
    assert str(error).startswith("Caller alice went over the rate limit of 3/minute")
    limiter.check("bob")  # another key has its own count


def test_several_limits_at_once(storage: dict[str, Any]) -> None:
    limiter = RateLimiter("5/minute;2/hour", **storage)
    assert limiter.hit("k") is None
    assert limiter.hit("k") is None
    assert limiter.hit("k") is not None  # the hourly limit bites first


def test_async_checks_share_the_count_and_survive_new_loops(storage: dict[str, Any]) -> None:
    limiter = RateLimiter("3/minute", **storage)
    limiter.check("carol")

    async def once() -> None:
        await limiter.acheck("carol")

    asyncio.run(once())  # each asyncio.run is a new loop: a cached client would fail
    asyncio.run(once())
    with pytest.raises(RateLimitedError):
        asyncio.run(once())


@pytest.mark.parametrize("mode", ["run", "arun", "stream", "astream"])
def test_as_an_agent_policy_it_limits_model_calls_per_caller(
    storage: dict[str, Any], mode: str
) -> None:
    """Before, a RateLimiter in Agent(policies=[...]) had no face and limited nothing."""
    agent = Agent(
        [send_sms],
        ScriptedProvider([call("send_sms", to="1"), "done"], cycle=True),
        policies=[RateLimiter("3/minute", **storage)],
    )

    def answer(identity: str) -> str:
        if mode == "run":
            return agent.run("text 1", identity=identity).text
        if mode == "stream":
            *_, last = agent.stream("text 1", identity=identity)
            return last.result.text  # type: ignore[union-attr]

        async def drive() -> str:
            if mode == "arun":
                return (await agent.arun("text 1", identity=identity)).text
            events = [event async for event in agent.astream("text 1", identity=identity)]
            return events[-1].result.text  # type: ignore[union-attr]

        return asyncio.run(drive())

    assert answer("alice") == "done"  # two model calls
    with pytest.raises(RateLimitedError) as caught:  # the third is allowed, the fourth is not
        answer("alice")
    assert caught.value.http_status == 429
    assert sent == ["1", "1"]  # the second run's tool ran; its closing model call did not
    assert answer("bob") == "done"  # each caller has its own count


def test_a_spec_rate_limit_limits_the_loaded_agent(unique_name: str) -> None:
    """Before, the spec's `rate_limit` built a RateLimiter the agent never consulted."""
    from selectools.spec import AgentSpec

    spec = AgentSpec.parse(
        {
            "name": unique_name,
            "provider": {"factory": "tests.fakes.spec_targets:echo_provider"},
            "tools": ["tests.fakes.spec_targets:order_status"],
            "policies": {"rate_limit": "3/minute"},
        }
    )
    agent = spec.build()
    assert agent.run("Where is 1001?", identity=unique_name).text.startswith("Order says")
    with pytest.raises(RateLimitedError):  # its first model call is the 3rd, its 2nd the 4th
        agent.run("And 1002?", identity=unique_name)
