"""Facts in this process's memory, the most recent ones kept (bounded)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from .facts import AnalyticsQuery, RunFact, ToolFact

__all__ = ["InMemoryAnalyticsStore"]


class InMemoryAnalyticsStore:
    """Keeps the last `max_facts` tool calls and runs (older ones drop off)."""

    def __init__(self, max_facts: int = 100_000) -> None:
        self._tools: deque[ToolFact] = deque(maxlen=max_facts)
        self._runs: deque[RunFact] = deque(maxlen=max_facts)
        self._lock = threading.Lock()

    def add_run(self, fact: RunFact, tools: Sequence[ToolFact] = ()) -> None:
        with self._lock:
            self._tools.extend(tools)
            self._runs.append(fact)

    def add_tools(self, tools: Sequence[ToolFact]) -> None:
        with self._lock:
            self._tools.extend(tools)

    def facts(self, query: AnalyticsQuery) -> tuple[list[ToolFact], list[RunFact]]:
        with self._lock:
            tools, runs = list(self._tools), list(self._runs)
        return (
            [f for f in tools if query.keeps(f.identity, f.session_id, f.time)],
            [f for f in runs if query.keeps(f.identity, f.session_id, f.time)],
        )
