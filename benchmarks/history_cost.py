"""Per-run cost against the length of the session's history, in the same process.

A run with 1,000 messages of history already in its session should cost about
what a run with none costs (flat within 1.3x) when the model itself costs
nothing: the loop must not walk or copy the history more than it has to. Two
providers: a free one (answers without looking at the request) and
ScriptedProvider (estimates tokens from the request).
Run: `python benchmarks/history_cost.py`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator, Callable, Iterator

from selectools import (
    Agent,
    Message,
    ModelRequest,
    ModelResponse,
    Provider,
    ScriptedProvider,
    Usage,
)
from selectools.memory import ConversationMemory
from selectools.sessions import InMemorySessionStore

RUNS = 500
REPEATS = 5
HISTORY = (0, 100, 1000)


class FreeProvider:
    """Answers at once with a constant reply: only the loop's own cost is left."""

    name = "free"
    model = "free"

    def __init__(self) -> None:
        self._reply = ModelResponse(
            message=Message.assistant("ok"), usage=Usage(requests=1), model="free", provider="free"
        )

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self._reply

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        return self._reply

    def stream(self, request: ModelRequest) -> Iterator[ModelResponse]:
        yield self._reply

    async def astream(self, request: ModelRequest) -> AsyncIterator[ModelResponse]:
        yield self._reply


def per_run_us(provider_factory: Callable[[], Provider], history: int) -> float:
    """Each timed run continues its own session that already holds `history` messages."""
    turns = [
        Message.user(f"question {i}") if i % 2 == 0 else Message.assistant(f"answer {i}")
        for i in range(history)
    ]
    samples = []
    for _ in range(REPEATS):
        store = InMemorySessionStore()
        agent = Agent([], provider_factory(), memory=ConversationMemory(store))
        agent.run("warm up", session_id="warm")
        for i in range(RUNS):  # seeded before timing: the history does not grow while we measure
            if turns:
                store.append(f"s{i}", turns)
        start = time.perf_counter()
        for i in range(RUNS):
            agent.run("next question", session_id=f"s{i}")
        samples.append((time.perf_counter() - start) / RUNS * 1e6)
    return statistics.median(samples)


def scripted() -> ScriptedProvider:
    return ScriptedProvider(["ok"], cycle=True)


def main() -> None:
    print("| provider | " + " | ".join(f"{n} messages" for n in HISTORY) + " | ratio 1,000 / 0 |")
    print("|---|" + "---|" * len(HISTORY) + "---|")
    factories: tuple[tuple[str, Callable[[], Provider]], ...] = (
        ("free", FreeProvider),
        ("ScriptedProvider", scripted),
    )
    for label, factory in factories:
        costs = [per_run_us(factory, n) for n in HISTORY]
        cells = " | ".join(f"{c:.1f} µs" for c in costs)
        print(f"| {label} | {cells} | {costs[-1] / costs[0]:.2f}x |")


if __name__ == "__main__":
    main()
