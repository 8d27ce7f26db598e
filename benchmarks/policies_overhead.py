"""What the resilience policies cost per run, and what a response-cache hit saves.

All variants drive the same ScriptedProvider (one tool call, then the answer),
in one process, so the differences are the policies' own work: a Retry layer,
a CircuitBreaker (in memory and, when Redis runs on 127.0.0.1:6379, in Redis
db 15), a Quota, and a ResponseCache hit against the model call it replaces
(a local fake OpenAI server through the real SDK). Ratios against the bare
agent measured in the same run. Run: `python benchmarks/policies_overhead.py`.
"""

from __future__ import annotations

import socket
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from selectools import Agent, OpenAIProvider, ScriptedProvider, call, tool
from selectools.policies import CircuitBreaker, Quota, ResponseCache, Retry

RUNS = 500
REPEATS = 5
REDIS_URL = "redis://127.0.0.1:6379/15"


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def agent(*policies: object) -> Agent:
    model = ScriptedProvider([call("get_weather", city="Paris"), "Sunny."], cycle=True)
    return Agent([get_weather], model, policies=policies)


def per_run_us(run: Callable[[], object], runs: int = RUNS) -> float:
    """Median over REPEATS of the mean microseconds per run."""
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(runs):
            run()
        samples.append((time.perf_counter() - started) / runs * 1e6)
    return statistics.median(samples)


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> None:
    prefix = f"bench{uuid.uuid4().hex[:8]}:"
    variants: dict[str, Agent] = {
        "bare agent": agent(),
        "Retry()": agent(Retry()),
        "CircuitBreaker() in memory": agent(CircuitBreaker()),
        "Retry + CircuitBreaker + Quota, memory": agent(
            Retry(), CircuitBreaker(), Quota(tokens_per_day=10**12)
        ),
    }
    if redis_up():
        variants["CircuitBreaker(storage=redis)"] = agent(
            CircuitBreaker(storage=REDIS_URL, prefix=prefix)
        )
        variants["Quota(storage=redis)"] = agent(
            Quota(tokens_per_day=10**12, storage=REDIS_URL, namespace=prefix)
        )
    base = per_run_us(lambda: variants["bare agent"].run("Weather in Paris?"))
    print(f"{'variant':44} {'us/run':>9} {'x bare':>7}")
    for name, chosen in variants.items():
        if name == "bare agent":
            cost = base
        else:
            cost = per_run_us(lambda a=chosen: a.run("Weather in Paris?"))  # type: ignore[misc]
        print(f"{name:44} {cost:9.1f} {cost / base:7.2f}")

    from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

    server = FakeOpenAIServer(default=FakeReply(text="Paris.")).start()
    try:
        model = OpenAIProvider("gpt-4o-mini", api_key="k", base_url=server.base_url)
        uncached = Agent(provider=model)
        cached = Agent(provider=model, cache=ResponseCache())
        miss = per_run_us(lambda: uncached.run("Capital of France?"), runs=100)
        hit = per_run_us(lambda: cached.run("Capital of France?"), runs=100)
        print(f"\nmodel call to a local fake server (real SDK): {miss:9.1f} us/run")
        print(f"ResponseCache hit instead:                    {hit:9.1f} us/run")
        print(f"a hit takes {hit / miss:.3f} of the call ({miss / hit:.0f}x faster)")
    finally:
        server.stop()
        if redis_up():
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter(match=f"*{prefix}*"):
                client.delete(key)


if __name__ == "__main__":
    main()
