"""Usage analytics: per tool calls, errors and latency percentiles; per identity and
session runs, tokens and cost.

`Agent(policies=[Analytics()])` keeps the facts in memory (this process);
`Analytics(SQLAnalyticsStore(url))` keeps them in SQLite or PostgreSQL, so
every worker writes to and reads from one place. `agent.analytics()` and the
opt-in `GET {prefix}/analytics` route (`ServingOptions(analytics_route=True)`)
report them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .facts import AnalyticsQuery, RunFact, ToolFact
from .memory import InMemoryAnalyticsStore
from .policy import Analytics
from .report import AnalyticsReport, ToolStats, UsageStats

if TYPE_CHECKING:
    from .sql import SQLAnalyticsStore

__all__ = [
    "Analytics",
    "AnalyticsQuery",
    "AnalyticsReport",
    "InMemoryAnalyticsStore",
    "RunFact",
    "SQLAnalyticsStore",
    "ToolFact",
    "ToolStats",
    "UsageStats",
]


if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error

    def __getattr__(name: str) -> Any:
        if name == "SQLAnalyticsStore":  # SQLAlchemy loads only for the SQL store
            from .sql import SQLAnalyticsStore

            return SQLAnalyticsStore
        raise AttributeError(f"module 'selectools.analytics' has no attribute {name!r}")
