"""The facts analytics keep (one per tool call, one per run) and the filter of a report."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..frozen import record

__all__ = ["AnalyticsQuery", "AnalyticsStore", "RunFact", "ToolFact"]


@record
class ToolFact:
    time: float
    tool: str
    ok: bool
    error_type: str | None
    duration_ms: float
    identity: str | None
    session_id: str | None


@record
class RunFact:
    time: float
    ok: bool
    identity: str | None
    session_id: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    error_type: str | None = None


@record
class AnalyticsQuery:
    """Which facts a report covers: one identity's (None with `everyone=False`: anonymous
    runs only), or everyone's; optionally one session and facts after `since` (epoch s)."""

    identity: str | None = None
    everyone: bool = True
    session_id: str | None = None
    since: float | None = None

    def keeps(self, identity: str | None, session_id: str | None, time: float) -> bool:
        if not self.everyone and identity != self.identity:
            return False
        if self.session_id is not None and session_id != self.session_id:
            return False
        return self.since is None or time >= self.since


class AnalyticsStore(Protocol):
    """Where facts go and come back from; thread-safe. A run's facts arrive together
    when it ends (one write, one transaction in SQL)."""

    def add_run(self, fact: RunFact, tools: Sequence[ToolFact] = ()) -> None: ...

    def add_tools(self, tools: Sequence[ToolFact]) -> None:
        """Tool calls made outside a run (a client calling the agent's tools over MCP)."""
        ...

    def facts(self, query: AnalyticsQuery) -> tuple[list[ToolFact], list[RunFact]]: ...
