"""A report built from facts: the same arithmetic whatever store kept them."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import field
from typing import Any

from ..frozen import record
from .facts import RunFact, ToolFact

__all__ = ["AnalyticsReport", "ToolStats", "UsageStats", "build_report"]


@record
class ToolStats:
    """One tool: calls, failed calls, and latency percentiles in ms."""

    tool: str
    calls: int
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    error_types: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "calls": self.calls,
            "errors": self.errors,
            "error_rate": round(self.error_rate, 4),
            "error_types": dict(self.error_types),
            "p50_ms": round(self.p50_ms, 3),
            "p90_ms": round(self.p90_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "max_ms": round(self.max_ms, 3),
        }


@record
class UsageStats:
    """Runs and their usage for one identity or session; `cost_usd` is None when some
    run's price is unknown."""

    key: str | None
    runs: int
    failed_runs: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "failed_runs": self.failed_runs,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
            "cost_usd": self.cost_usd,
        }


@record
class AnalyticsReport:
    tools: dict[str, ToolStats]
    identities: dict[str | None, UsageStats]
    sessions: dict[str, UsageStats]
    runs: int
    tool_calls: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; runs without an identity are listed under the key "" (anonymous)."""
        return {
            "runs": self.runs,
            "tool_calls": self.tool_calls,
            "tools": {name: stats.to_dict() for name, stats in sorted(self.tools.items())},
            "identities": {
                key or "": stats.to_dict()
                for key, stats in sorted(self.identities.items(), key=lambda item: item[0] or "")
            },
            "sessions": {key: stats.to_dict() for key, stats in sorted(self.sessions.items())},
        }


def build_report(tools: Iterable[ToolFact], runs: Iterable[RunFact]) -> AnalyticsReport:
    by_tool: dict[str, list[ToolFact]] = defaultdict(list)
    tool_count = 0
    for fact in tools:
        by_tool[fact.tool].append(fact)
        tool_count += 1
    by_identity: dict[str | None, list[RunFact]] = defaultdict(list)
    by_session: dict[str, list[RunFact]] = defaultdict(list)
    run_count = 0
    for run in runs:
        run_count += 1
        by_identity[run.identity].append(run)
        if run.session_id is not None:
            by_session[run.session_id].append(run)
    return AnalyticsReport(
        tools={name: _tool_stats(name, facts) for name, facts in by_tool.items()},
        identities={key: _usage(key, facts) for key, facts in by_identity.items()},
        sessions={key: _usage(key, facts) for key, facts in by_session.items()},
        runs=run_count,
        tool_calls=tool_count,
    )


def _tool_stats(name: str, facts: list[ToolFact]) -> ToolStats:
    durations = sorted(fact.duration_ms for fact in facts)
    errors: dict[str, int] = defaultdict(int)
    for fact in facts:
        if not fact.ok:
            errors[fact.error_type or "error"] += 1
    return ToolStats(
        tool=name,
        calls=len(facts),
        errors=sum(errors.values()),
        p50_ms=_percentile(durations, 50),
        p90_ms=_percentile(durations, 90),
        p99_ms=_percentile(durations, 99),
        max_ms=durations[-1],
        error_types=dict(errors),
    )


def _percentile(ordered: list[float], q: int) -> float:
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[q - 1]


def _usage(key: str | None, runs: list[RunFact]) -> UsageStats:
    costs = [run.cost_usd for run in runs]
    return UsageStats(
        key=key,
        runs=len(runs),
        failed_runs=sum(1 for run in runs if not run.ok),
        input_tokens=sum(run.input_tokens for run in runs),
        output_tokens=sum(run.output_tokens for run in runs),
        cost_usd=None if any(cost is None for cost in costs) else sum(c or 0.0 for c in costs),
    )
