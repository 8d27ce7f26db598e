"""Usage analytics in memory and in SQLite: what each tool, identity and session did."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from selectools import Agent, ProviderError, ScriptedProvider, call, tool
from selectools.analytics import Analytics, InMemoryAnalyticsStore, SQLAnalyticsStore


@tool
def slow(ms: int) -> str:
    """Sleep for ms milliseconds."""
    time.sleep(ms / 1000)
    return "ok"


@tool
def broken() -> str:
    """Always fails."""
    raise RuntimeError("down")


def script(request: object) -> object:
    messages = request.messages  # type: ignore[attr-defined]
    if messages[-1].role == "tool":
        return "done"
    prompt = messages[-1].content
    if prompt == "fail":
        return call("broken")
    return [call("slow", ms=int(prompt)), call("broken")]


@pytest.fixture(params=["memory", "sqlite"])
def analytics(request: pytest.FixtureRequest, tmp_path: Path) -> Analytics:
    if request.param == "memory":
        return Analytics(InMemoryAnalyticsStore())
    return Analytics(SQLAnalyticsStore(f"sqlite:///{tmp_path / 'a.db'}"))


def test_tools_identities_and_sessions(analytics: Analytics) -> None:
    agent = Agent([slow, broken], ScriptedProvider(responder=script), policies=[analytics])
    for ms in (1, 2, 3, 4, 40):
        agent.run(str(ms), identity="ada", session_id="s-ada")
    agent.run("fail", identity="bob")
    agent.run("1")  # anonymous

    report = agent.analytics()
    assert report.runs == 7
    assert report.tool_calls == 13
    slow_stats, broken_stats = report.tools["slow"], report.tools["broken"]
    assert (slow_stats.calls, slow_stats.errors) == (6, 0)
    assert (broken_stats.calls, broken_stats.errors) == (7, 7)
    assert broken_stats.error_types == {"RuntimeError": 7}
    assert slow_stats.p50_ms <= slow_stats.p90_ms <= slow_stats.p99_ms <= slow_stats.max_ms
    assert slow_stats.max_ms >= 40  # the 40 ms call

    ada, bob, nobody = report.identities["ada"], report.identities["bob"], report.identities[None]
    assert (ada.runs, bob.runs, nobody.runs) == (5, 1, 1)
    assert ada.input_tokens > bob.input_tokens > 0
    assert report.sessions["s-ada"].runs == 5
    assert report.sessions["s-ada"].output_tokens == ada.output_tokens
    assert set(report.sessions) == {"s-ada"}
    data = report.to_dict()
    assert set(data["identities"]) == {"ada", "bob", ""}
    assert data["tools"]["broken"]["error_rate"] == 1.0

    mine = agent.analytics(identity="bob")
    assert set(mine.identities) == {"bob"}
    assert mine.tools["broken"].calls == 1
    assert "slow" not in mine.tools
    assert agent.analytics(session_id="s-ada").runs == 5


def test_failed_runs_are_counted(analytics: Analytics) -> None:
    agent = Agent([], ScriptedProvider(["one"]), policies=[analytics])
    agent.run("a", identity="ada")
    with pytest.raises(ProviderError):
        agent.run("b", identity="ada")
    stats = agent.analytics().identities["ada"]
    assert (stats.runs, stats.failed_runs) == (2, 1)


async def test_concurrent_async_runs_are_attributed_to_their_callers(analytics: Analytics) -> None:
    import asyncio

    agent = Agent(
        [slow],
        ScriptedProvider(
            responder=lambda r: call("slow", ms=1) if r.messages[-1].role == "user" else "x"
        ),
        policies=[analytics],
    )
    await asyncio.gather(*(agent.arun("go", identity=f"user{i % 3}") for i in range(12)))
    report = agent.analytics()
    assert {k: v.runs for k, v in report.identities.items()} == {"user0": 4, "user1": 4, "user2": 4}
    assert report.tools["slow"].calls == 12


def test_an_agent_without_analytics_says_how_to_add_them() -> None:
    with pytest.raises(LookupError, match=r"Add Analytics\(\) to its policies"):
        Agent([], ScriptedProvider(["x"])).analytics()


def test_sql_store_refuses_odd_table_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prefix"):
        SQLAnalyticsStore(f"sqlite:///{tmp_path / 'a.db'}", prefix="x; drop table y")


def test_percentiles_from_known_latencies() -> None:
    from selectools.analytics import ToolFact
    from selectools.analytics.report import build_report

    facts = [ToolFact(0.0, "t", i % 10 != 0, "boom", float(i), None, None) for i in range(1, 101)]
    stats = build_report(facts, []).tools["t"]
    assert (stats.calls, stats.errors, stats.error_types) == (100, 10, {"boom": 10})
    assert (stats.p50_ms, stats.p90_ms, stats.p99_ms, stats.max_ms) == (50.5, 90.1, 99.01, 100.0)
    single = build_report([facts[0]], []).tools["t"]
    assert single.p50_ms == single.p99_ms == 1.0


def test_tool_calls_outside_a_run_are_written_at_once_not_kept_forever() -> None:
    """Over MCP a tool call has no run to end: its facts waited for `on_run_end` in a
    buffer that grew by one entry per call and never reached the store."""
    from selectools import RunContext, ToolCall
    from selectools.tools.calling import call_tools_sync, prepare

    analytics = Analytics()

    @tool
    def ping() -> str:
        """Pong."""
        return "pong"

    for n in range(3):
        context = RunContext(f"mcp-{n}", None, "ada", {"transport": "mcp"})
        prepared = prepare({"ping": ping}, ToolCall(f"c{n}", "ping", "{}"), context)
        [record] = call_tools_sync(
            [prepared], tool_timeout=None, parallel=False, policies=[analytics]
        )
        assert record.ok
    assert analytics._calls == {}
    assert analytics.report(identity="ada").tools["ping"].calls == 3
