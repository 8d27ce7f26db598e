"""CircuitBreaker: closed -> open -> half-open -> closed, counted in requests each server saw."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from selectools import (
    Agent,
    CircuitOpenError,
    OpenAIProvider,
    ProviderError,
    ScriptedProvider,
)
from selectools.messages import Message
from selectools.policies import CircuitBreaker, CircuitStateChanged
from selectools.providers import FallbackProvider, ModelRequest
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

FAIL_500 = FakeReply(status=500, error={"message": "down"})
OK = FakeReply(text="ok")


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest, unique_name: str) -> Iterator[dict[str, Any]]:
    """Breaker settings for circuits in this process, or in Redis under a fresh prefix."""
    if request.param == "memory":
        yield {}
        return
    url = request.getfixturevalue("redis_url")
    prefix = f"{unique_name}:circuit:"
    yield {"storage": url, "prefix": prefix}
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def provider(server: FakeOpenAIServer, name: str = "openai") -> OpenAIProvider:
    return OpenAIProvider(
        "gpt-4o-mini", api_key="sk-test", base_url=server.base_url, name=name, max_retries=0
    )


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


async def _value(value: object) -> object:
    return value


async def eventually(read: Callable[[], Awaitable[object]], expected: object) -> None:
    """Poll until `read()` gives `expected`, for at most 5 s."""
    deadline = time.monotonic() + 5.0
    for _ in range(100_000):
        if await read() == expected:
            return
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.01)
    raise AssertionError(f"never became {expected!r}")


def fail_times(agent: Agent, n: int) -> None:
    for _ in range(n):
        with pytest.raises(ProviderError) as caught:
            agent.run("hi")
        assert not isinstance(caught.value, CircuitOpenError)


def test_open_half_open_closed(openai_server: FakeOpenAIServer, storage: dict[str, Any]) -> None:
    changes: list[CircuitStateChanged] = []
    breaker = CircuitBreaker(reset_after=0.3, on_change=changes.append, **storage)
    agent = Agent(provider=provider(openai_server), policies=[breaker])
    openai_server.default = FAIL_500

    fail_times(agent, 4)
    assert breaker.state() == "closed"
    fail_times(agent, 1)
    assert breaker.state() == "open"
    assert openai_server.count == 5

    with pytest.raises(CircuitOpenError) as caught:  # skipped without a request
        agent.run("hi")
    assert openai_server.count == 5
    error = caught.value
    assert (error.http_status, error.error_type) == (503, "circuit_open")
    assert 0 < error.retry_after <= 0.3  # type: ignore[operator]
    assert error.http_headers == {"Retry-After": "1"}

    wait_for(lambda: breaker.state() == "half_open")
    openai_server.default = OK
    assert agent.run("hi").text == "ok"  # the trial call
    assert openai_server.count == 6
    assert breaker.state() == "closed"
    assert [(c.old, c.new, c.failures) for c in changes] == [
        ("closed", "open", 5),
        ("half_open", "closed", 5),
    ]


def test_a_failed_trial_opens_the_circuit_again(
    openai_server: FakeOpenAIServer, storage: dict[str, Any]
) -> None:
    breaker = CircuitBreaker(failures=2, reset_after=0.3, **storage)
    agent = Agent(provider=provider(openai_server), policies=[breaker])
    openai_server.default = FAIL_500
    fail_times(agent, 2)
    wait_for(lambda: breaker.state() == "half_open")
    fail_times(agent, 1)  # the trial reaches the server and fails
    assert openai_server.count == 3
    assert breaker.state() == "open"
    with pytest.raises(CircuitOpenError):
        agent.run("hi")
    assert openai_server.count == 3


async def test_half_open_lets_exactly_one_trial_through(
    openai_server: FakeOpenAIServer, storage: dict[str, Any]
) -> None:
    breaker = CircuitBreaker(failures=1, reset_after=0.3, **storage)
    agent = Agent(provider=provider(openai_server), policies=[breaker])
    openai_server.add(FAIL_500)
    with pytest.raises(ProviderError):
        await agent.arun("hi")
    await eventually(lambda: breaker.astate(), "half_open")

    release = threading.Event()
    openai_server.add(FakeReply(text="trial ok", hold=release))
    trial = asyncio.create_task(agent.arun("hi"))
    await eventually(lambda: _value(openai_server.count), 2)  # the trial is held at the server
    with pytest.raises(CircuitOpenError):  # a second caller meanwhile fails fast
        await agent.arun("hi")
    assert openai_server.count == 2
    release.set()
    assert (await trial).text == "trial ok"
    assert await breaker.astate() == "closed"


def test_bad_input_proves_the_provider_is_up(
    openai_server: FakeOpenAIServer, storage: dict[str, Any]
) -> None:
    breaker = CircuitBreaker(failures=3, **storage)
    agent = Agent(provider=provider(openai_server), policies=[breaker])
    openai_server.add(FAIL_500, FAIL_500, FakeReply(status=400), FAIL_500, FAIL_500)
    fail_times(agent, 5)
    assert breaker.state() == "closed"  # never three failures in a row
    assert openai_server.count == 5


def test_a_breaker_per_provider_inside_a_fallback(
    openai_server: FakeOpenAIServer, storage: dict[str, Any]
) -> None:
    backup = FakeOpenAIServer(default=FakeReply(text="backup")).start()
    try:
        openai_server.default = FAIL_500
        breaker = CircuitBreaker(failures=2, **storage)
        primary, second = provider(openai_server, "primary"), provider(backup, "backup")
        fallback = FallbackProvider(primary, second, policies=[breaker])
        agent = Agent(provider=fallback)
        for _ in range(4):
            assert agent.run("hi").provider == "backup"
        assert openai_server.count == 2  # then skipped without a request
        assert backup.count == 4
        assert breaker.state(primary) == "open"
        assert breaker.state(second) == "closed"
        with pytest.raises(ValueError, match="guards 2 circuits"):
            breaker.state()
    finally:
        backup.stop()


def test_two_workers_share_one_circuit_through_redis(
    openai_server: FakeOpenAIServer, redis_url: str, unique_name: str
) -> None:
    shared = {"storage": redis_url, "prefix": f"{unique_name}:circuit:"}
    worker_a = Agent(provider=provider(openai_server), policies=[CircuitBreaker(3, **shared)])
    worker_b = Agent(provider=provider(openai_server), policies=[CircuitBreaker(3, **shared)])
    openai_server.default = FAIL_500
    fail_times(worker_a, 2)
    fail_times(worker_b, 1)  # the third failure in a row, seen by another worker
    with pytest.raises(CircuitOpenError):
        worker_a.run("hi")
    assert openai_server.count == 3
    worker_a.policies[0].reset()  # type: ignore[attr-defined]


def test_async_clients_survive_a_new_event_loop(
    openai_server: FakeOpenAIServer, redis_url: str, unique_name: str
) -> None:
    breaker = CircuitBreaker(2, storage=redis_url, prefix=f"{unique_name}:circuit:")
    agent = Agent(provider=provider(openai_server), policies=[breaker])
    openai_server.default = FAIL_500

    async def fail_once() -> None:
        with pytest.raises(ProviderError):
            await agent.arun("hi")

    asyncio.run(fail_once())
    asyncio.run(fail_once())  # a client made in the first loop would fail here
    assert breaker.state() == "open"
    breaker.reset()
    assert breaker.state() == "closed"


def test_streams_count_too(openai_server: FakeOpenAIServer) -> None:
    breaker = CircuitBreaker(failures=2)
    agent = Agent(provider=provider(openai_server), policies=[breaker])
    openai_server.default = FAIL_500
    for _ in range(2):
        with pytest.raises(ProviderError):
            list(agent.stream("hi"))
    with pytest.raises(CircuitOpenError):
        list(agent.stream("hi"))
    assert openai_server.count == 2


def test_a_stream_left_early_gives_no_verdict() -> None:
    breaker = CircuitBreaker(failures=1, reset_after=0.05)
    guarded = breaker.wrap(ScriptedProvider(["one two three"], cycle=True))
    items = guarded.stream(ModelRequest([Message.user("hi")]))
    next(items)
    items.close()  # type: ignore[attr-defined]
    assert breaker.state() == "closed"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="failures"):
        CircuitBreaker(failures=0)
