"""Caches: identical requests reach the server once; identities never share entries."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from selectools import (
    Agent,
    AgentConfig,
    OpenAIProvider,
    RunContext,
    ScriptedProvider,
    TextDelta,
    call,
    tool,
)
from selectools.events import ModelCallFinished
from selectools.policies import LogCalls, ResponseCache, Retry, ToolCache
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest, unique_name: str) -> Iterator[dict[str, Any]]:
    if request.param == "memory":
        yield {}
        return
    url = request.getfixturevalue("redis_url")
    yield {"storage": url, "prefix": f"{unique_name}:cache:"}
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{unique_name}:*"):
        client.delete(key)


def provider(server: FakeOpenAIServer) -> OpenAIProvider:
    return OpenAIProvider("gpt-4o-mini", api_key="sk-test", base_url=server.base_url)


async def ask(agent: Agent, mode: str, prompt: str, **kwargs: Any) -> Any:
    if mode == "run":
        return agent.run(prompt, **kwargs)
    if mode == "arun":
        return await agent.arun(prompt, **kwargs)
    if mode == "stream":
        events = list(agent.stream(prompt, **kwargs))
    else:
        events = [e async for e in agent.astream(prompt, **kwargs)]
    result = events[-1].result
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == result.text
    return result


@pytest.mark.parametrize("mode", ["run", "arun", "stream", "astream"])
async def test_identical_requests_reach_the_server_once(
    openai_server: FakeOpenAIServer, storage: dict[str, Any], mode: str
) -> None:
    openai_server.default = FakeReply(text="Paris is the capital.")
    cache = ResponseCache(ttl=60, **storage)
    agent = Agent(provider=provider(openai_server), cache=cache)
    first = await ask(agent, mode, "Capital of France?", identity="alice")
    second = await ask(agent, mode, "Capital of France?", identity="alice")
    assert openai_server.count == 1
    assert first.text.strip() == second.text.strip() == "Paris is the capital."
    assert (first.usage.requests, first.usage.cache_misses, first.usage.cache_hits) == (1, 1, 0)
    assert (second.usage.requests, second.usage.cache_hits) == (0, 1)
    assert (second.usage.total_tokens, second.usage.cost_usd) == (0, 0.0)  # a hit is free
    assert (cache.hits, cache.misses) == (1, 1)


async def test_different_identities_never_share_entries(
    openai_server: FakeOpenAIServer, storage: dict[str, Any]
) -> None:
    openai_server.add(FakeReply(text="alice's answer"), FakeReply(text="bob's answer"))
    agent = Agent(provider=provider(openai_server), cache=ResponseCache(**storage))
    assert agent.run("What is my balance?", identity="alice").text == "alice's answer"
    assert agent.run("What is my balance?", identity="bob").text == "bob's answer"
    assert (await agent.arun("What is my balance?", identity="alice")).text == "alice's answer"
    assert agent.run("What is my balance?", identity="bob").text == "bob's answer"
    assert openai_server.count == 2


def test_shared_caches_answer_everyone(
    openai_server: FakeOpenAIServer, storage: dict[str, Any]
) -> None:
    openai_server.default = FakeReply(text="public answer")
    agent = Agent(provider=provider(openai_server), cache=ResponseCache(shared=True, **storage))
    agent.run("Opening hours?", identity="alice")
    agent.run("Opening hours?", identity="bob")
    agent.run("Opening hours?")
    assert openai_server.count == 1


@pytest.mark.parametrize(
    "change",
    [
        {"input": "Capital of Spain?"},
        {"config": {"temperature": 0.9}},
        {"system_prompt": "Answer in French."},
        {"tools": True},
    ],
    ids=["messages", "temperature", "system-prompt", "tools"],
)
def test_anything_that_shapes_the_answer_is_in_the_key(
    openai_server: FakeOpenAIServer, change: dict[str, Any]
) -> None:
    @tool
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    openai_server.default = FakeReply(text="answer")
    cache = ResponseCache()
    base = Agent(provider=provider(openai_server), cache=cache)
    base.run("Capital of France?")
    variant = Agent(
        [lookup] if change.get("tools") else [],
        provider(openai_server),
        system_prompt=change.get("system_prompt"),
        cache=cache,
    )
    variant.run(change.get("input", "Capital of France?"), config=change.get("config"))
    assert openai_server.count == 2


def test_the_lru_keeps_at_most_max_entries(openai_server: FakeOpenAIServer) -> None:
    openai_server.default = FakeReply(text="answer")
    agent = Agent(provider=provider(openai_server), cache=ResponseCache(max_entries=2))
    for prompt in ("a", "b", "c"):  # "a" is evicted
        agent.run(prompt)
    agent.run("c")
    agent.run("b")
    assert openai_server.count == 3
    agent.run("a")
    assert openai_server.count == 4


def test_an_expired_entry_is_asked_again(openai_server: FakeOpenAIServer) -> None:
    openai_server.default = FakeReply(text="answer")
    agent = Agent(provider=provider(openai_server), cache=ResponseCache(ttl=0))
    agent.run("hi")
    agent.run("hi")
    assert openai_server.count == 2


def test_redis_entries_carry_the_ttl(
    openai_server: FakeOpenAIServer, redis_url: str, unique_name: str
) -> None:
    import redis

    openai_server.default = FakeReply(text="answer")
    prefix = f"{unique_name}:cache:"
    agent = Agent(
        provider=provider(openai_server),
        cache=ResponseCache(redis_url, ttl=90, prefix=prefix),
    )
    agent.run("hi")
    client = redis.Redis.from_url(redis_url)
    (key,) = list(client.scan_iter(match=f"{prefix}*"))
    assert 0 < client.pttl(key) <= 90_000
    client.delete(key)


def test_two_workers_share_a_redis_cache(
    openai_server: FakeOpenAIServer, redis_url: str, unique_name: str
) -> None:
    openai_server.default = FakeReply(text="answer")
    settings = {"storage": redis_url, "prefix": f"{unique_name}:cache:"}
    worker_a = Agent(provider=provider(openai_server), cache=ResponseCache(**settings))
    worker_b = Agent(provider=provider(openai_server), cache=ResponseCache(**settings))
    worker_a.run("hi", identity="carol")
    result = worker_b.run("hi", identity="carol")
    assert result.usage.cache_hits == 1
    assert openai_server.count == 1

    async def again() -> int:
        return (await worker_b.arun("hi", identity="carol")).usage.cache_hits

    assert asyncio.run(again()) == 1  # a new event loop gets its own client
    assert asyncio.run(again()) == 1


def test_observers_see_hits_and_misses(openai_server: FakeOpenAIServer) -> None:
    seen: list[tuple[int, int]] = []

    class Watch:
        def on_llm_end(self, event: ModelCallFinished) -> None:
            seen.append((event.response.usage.cache_hits, event.response.usage.cache_misses))

    openai_server.default = FakeReply(text="answer")
    agent = Agent(provider=provider(openai_server), cache=ResponseCache(), observers=[Watch()])
    agent.run("hi")
    agent.run("hi")
    assert seen == [(0, 1), (1, 0)]


def test_a_hit_skips_the_other_policies_and_retries(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="answer"))  # then nothing: a second request would fail
    bare = OpenAIProvider(
        "gpt-4o-mini", api_key="sk-test", base_url=openai_server.base_url, max_retries=0
    )
    agent = Agent(
        provider=bare,
        policies=[LogCalls(), Retry(initial_wait=0.01)],
        cache=ResponseCache(),
        config=AgentConfig(run_timeout=10),
    )
    assert agent.run("hi").text == "answer"
    assert agent.run("hi").text == "answer"
    assert openai_server.count == 1


# -- tool results ----------------------------------------------------------------------

calls: list[str] = []


def exchange_rate(currency: str) -> float:
    """Today's exchange rate to EUR."""
    calls.append(currency)
    return {"USD": 0.92, "GBP": 1.17}[currency]


def my_orders(context: RunContext) -> list[str]:
    """The caller's orders."""
    calls.append(str(context.identity))
    return [f"order of {context.identity}"]


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    calls.clear()


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_a_cached_tool_runs_once_per_arguments(mode: str) -> None:
    model = ScriptedProvider(
        [
            [call("exchange_rate", currency="USD"), call("exchange_rate", currency="GBP")],
            call("exchange_rate", currency="USD"),
            "done",
        ]
    )
    agent = Agent([tool(cache_ttl=60)(exchange_rate)], model)  # a fresh cache per test
    result = agent.run("rates") if mode == "run" else await agent.arun("rates")
    assert sorted(calls) == ["GBP", "USD"]
    assert [r.cached for r in result.tool_calls] == [False, False, True]
    assert result.tool_calls[2].output == "0.92"


def test_a_tool_that_takes_the_run_context_is_cached_per_identity() -> None:
    model = ScriptedProvider([call("my_orders"), "done"], cycle=True)
    agent = Agent([tool(cache_ttl=60)(my_orders)], model)
    agent.run("orders", identity="alice")
    agent.run("orders", identity="bob")
    bob_again = agent.run("orders", identity="bob")
    assert calls == ["alice", "bob"]
    assert bob_again.tool_calls[0].output == '["order of bob"]'


def test_failures_are_not_cached() -> None:
    attempts: list[int] = []

    @tool(cache_ttl=60)
    def flaky(n: int) -> int:
        """Fails the first time."""
        attempts.append(n)
        if len(attempts) == 1:
            raise RuntimeError("temporary")
        return n

    agent = Agent([flaky], ScriptedProvider([call("flaky", n=1), call("flaky", n=1), "done"]))
    result = agent.run("go")
    assert [r.ok for r in result.tool_calls] == [False, True]
    assert attempts == [1, 1]


async def test_tool_results_shared_through_redis(redis_url: str, unique_name: str) -> None:
    cache = ToolCache(60, storage=redis_url, prefix=f"{unique_name}:tools:")
    rate = tool(policies=[cache], name="rate")(exchange_rate)
    other_worker = tool(
        policies=[ToolCache(60, storage=redis_url, prefix=f"{unique_name}:tools:")], name="rate"
    )(exchange_rate)
    Agent([rate], ScriptedProvider([call("rate", currency="USD"), "ok"])).run("go")
    result = await Agent(
        [other_worker], ScriptedProvider([call("rate", currency="USD"), "ok"])
    ).arun("go")
    assert calls == ["USD"]
    assert result.tool_calls[0].cached
    assert result.tool_calls[0].output == "0.92"
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(match=f"{unique_name}:*"):
        client.delete(key)


# -- similar prompts -------------------------------------------------------------------


def semantic(unique_name: str, **kwargs: Any) -> Any:
    chromadb = pytest.importorskip("chromadb")
    from selectools_chroma import HashingEmbeddingFunction

    from selectools.policies import SemanticCache

    return SemanticCache(
        HashingEmbeddingFunction(),
        client=chromadb.EphemeralClient(),
        collection=unique_name,
        **kwargs,
    )


@pytest.mark.parametrize("mode", ["run", "arun", "stream", "astream"])
async def test_a_similar_prompt_gets_the_cached_answer(
    openai_server: FakeOpenAIServer, unique_name: str, mode: str
) -> None:
    openai_server.add(FakeReply(text="Paris."), FakeReply(text="Madrid."))
    cache = semantic(unique_name, threshold=0.8)
    agent = Agent(provider=provider(openai_server), cache=cache)
    await ask(agent, mode, "What is the capital of France?")
    again = await ask(agent, mode, "what is the capital of france")
    assert again.text.strip() == "Paris."
    assert again.usage.cache_hits == 1
    assert openai_server.count == 1
    other = await ask(agent, mode, "Which river flows through Madrid in Spain?")
    assert other.text.strip() == "Madrid."
    assert openai_server.count == 2


def test_similar_prompts_of_other_callers_or_conversations_do_not_match(
    openai_server: FakeOpenAIServer, unique_name: str
) -> None:
    openai_server.default = FakeReply(text="answer")
    agent = Agent(provider=provider(openai_server), cache=semantic(unique_name, threshold=0.8))
    agent.run("What is the capital of France?", identity="alice")
    agent.run("What is the capital of France?", identity="bob")
    agent.run(
        [
            {"role": "user", "content": "Let's talk about Texas."},
            {"role": "assistant", "content": "Sure."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        identity="alice",
    )
    assert openai_server.count == 3
    agent.run("what is the capital of france", identity="alice")
    assert openai_server.count == 3
