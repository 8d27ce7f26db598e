"""Audit log in Python: a record for every call, whatever happens to the run; SQL and log sinks."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from selectools import Agent, AgentConfig, ProviderError, tool
from selectools.audit import (
    AuditLog,
    AuditQuery,
    AuditRecord,
    LogSink,
    MemoryAuditSink,
    SQLAuditSink,
)
from selectools.events import ApprovalDecided, ApprovalRequested
from selectools.guardrails import DenyPatterns, Guardrails
from selectools.policies import ToolPolicy
from selectools.providers.scripted import ScriptedProvider, call
from selectools.results import PendingCall


@tool
def create_user(name: str, password: str, profile: dict[str, Any]) -> str:
    """Create a user."""
    return f"created {name}"


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(reason)


started = threading.Event()


@tool
async def hang(seconds: float) -> str:
    """Waits (cancelled in tests)."""
    started.set()
    await asyncio.sleep(seconds)
    return "woke"


PROFILE = {"Card": "4111 1111 1111 1111", "nested": [{"api_token": "sk-1"}], "city": "Oslo"}


def _agent(steps: list[Any], sink: Any, **audit: Any) -> Agent:
    tools = [create_user, explode, hang]
    return Agent(tools, ScriptedProvider(steps), policies=[AuditLog(sink, **audit)])


def test_ok_and_failed_calls_are_recorded_with_who_where_and_how_long() -> None:
    sink = MemoryAuditSink()
    agent = _agent(
        [
            [
                call("create_user", name="ada", password="pw", profile=PROFILE),
                call("explode", reason="disk full"),
            ],
            "done",
        ],
        sink,
        redact=["password", "card", "*token"],
    )
    result = agent.run("go", session_id="s-audit", identity="ada")
    ok, failed = sorted(sink.records, key=lambda r: r.tool)
    assert (ok.tool, ok.outcome, ok.error_type) == ("create_user", "ok", None)
    assert (failed.tool, failed.outcome, failed.error_type) == ("explode", "failed", "RuntimeError")
    for record in (ok, failed):
        assert record.identity == "ada"
        assert record.session_id == "s-audit"
        assert record.run_id == result.run_id
        assert record.duration_ms >= 0
        assert record.time.tzinfo is not None
    assert ok.call_id == result.tool_calls[0].id
    assert ok.arguments == {
        "name": "ada",
        "password": "[redacted]",
        "profile": {"Card": "[redacted]", "nested": [{"api_token": "[redacted]"}], "city": "Oslo"},
    }


def test_pii_inside_free_text_arguments_can_be_redacted_too() -> None:
    sink = MemoryAuditSink()
    steps = [call("explode", reason="mail ada@example.org about 4111 1111 1111 1111"), "x"]
    _agent(steps, sink, redact_pii=True).run("go")
    assert sink.records[0].arguments == {"reason": "mail [email redacted] about [card redacted]"}


def test_a_call_refused_by_another_policy_is_recorded_with_its_reason() -> None:
    class NoWrites(ToolPolicy):
        def before_tool(self, invocation: Any) -> Any:
            return invocation.refuse("writes are off today")

    sink = MemoryAuditSink()
    agent = Agent(
        [create_user],
        ScriptedProvider([call("create_user", name="a", password="p", profile={}), "ok"]),
        policies=[AuditLog(sink), NoWrites(), Guardrails(DenyPatterns(["x"]))],
    )
    agent.run("go")
    assert [(r.outcome, r.error_type) for r in sink.records] == [("failed", "refused")]


async def test_cancelling_an_async_run_mid_tool_still_writes_a_record() -> None:
    sink = MemoryAuditSink()
    started.clear()
    agent = _agent([call("hang", seconds=30), "never"], sink)
    task = asyncio.ensure_future(agent.arun("go", identity="bob", session_id="s-cancel"))
    assert await asyncio.to_thread(started.wait, 10)
    assert list(sink.records) == []  # in flight: nothing yet
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [record] = sink.records
    assert (record.tool, record.outcome, record.error_type) == (
        "hang",
        "cancelled",
        "CancelledError",
    )
    assert (record.identity, record.session_id) == ("bob", "s-cancel")
    assert record.arguments == {"seconds": 30}


async def test_closing_a_stream_mid_tool_writes_a_cancelled_record() -> None:
    sink = MemoryAuditSink()
    started.clear()
    agent = _agent([call("hang", seconds=30), "never"], sink)
    events = agent.astream("go")

    async def consume() -> None:
        async for _ in events:
            pass

    task = asyncio.ensure_future(consume())
    assert await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [r.outcome for r in sink.records] == ["cancelled"]


def test_a_run_that_times_out_mid_tool_records_the_timeout() -> None:
    sink = MemoryAuditSink()
    agent = _agent([call("hang", seconds=30), "never"], sink)
    with pytest.raises(Exception, match="run_timeout"):
        agent.run("go", config=AgentConfig(run_timeout=0.3))
    [record] = sink.records
    assert (record.outcome, record.error_type) == ("failed", "timeout")


def test_records_stay_when_the_run_fails_after_the_call() -> None:
    sink = MemoryAuditSink()
    agent = _agent([call("explode", reason="x")], sink)  # no step left: the provider fails
    with pytest.raises(ProviderError):
        agent.run("go")
    assert [r.tool for r in sink.records] == ["explode"]


def _decision(approved: bool, reason: str | None = None) -> ApprovalDecided:
    arguments = {"name": "x", "password": "secret"}
    return ApprovalDecided("r1", "s1", "ada", "c1", "create_user", arguments, approved, reason)


def test_approval_events_reach_an_audit_log_passed_as_a_policy() -> None:
    sink = MemoryAuditSink()
    agent = _agent(["hi"], sink, redact=["password"])
    pending = ApprovalRequested(
        "r1", "s1", "ada", "a1", (PendingCall("c1", "create_user", {"password": "p"}),)
    )
    agent.observers.emit("on_approval_requested", pending)
    agent.observers.emit("on_approval_decided", _decision(True))
    agent.observers.emit("on_approval_decided", _decision(False, "not today"))
    rows = [(r.outcome, r.reason, r.identity, r.arguments.get("password")) for r in sink.records]
    assert rows == [
        ("awaiting_approval", None, "ada", "[redacted]"),
        ("approved", None, "ada", "[redacted]"),
        ("rejected", "not today", "ada", "[redacted]"),
    ]


def test_a_failing_sink_is_logged_or_fails_the_run_as_configured(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(record: AuditRecord) -> None:
        raise OSError("disk full")

    steps = [call("explode", reason="x"), "done"]
    with caplog.at_level(logging.ERROR, logger="selectools.audit"):
        assert _agent(list(steps), broken).run("go").text == "done"
    assert "record lost" in caplog.text
    with pytest.raises(OSError, match="disk full"):
        _agent(list(steps), broken, on_error="raise").run("go")


def test_default_sink_writes_one_json_line_per_record(caplog: pytest.LogCaptureFixture) -> None:
    audited = Agent(
        [explode],
        ScriptedProvider([call("explode", reason="x"), "ok"]),
        policies=[AuditLog(redact=["reason"])],
    )
    with caplog.at_level(logging.INFO, logger="selectools.audit"):
        audited.run("go", identity="ada")
    [line] = [r.getMessage() for r in caplog.records if r.name == "selectools.audit"]
    data = json.loads(line)
    assert data["tool"] == "explode"
    assert data["outcome"] == "failed"
    assert data["identity"] == "ada"
    assert data["arguments"] == {"reason": "[redacted]"}
    assert isinstance(LogSink().logger, logging.Logger)


# -- SQL sink: SQLite and PostgreSQL ------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def sql_sink(request: pytest.FixtureRequest, tmp_path: Any, unique_name: str) -> Iterator[Any]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'audit.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    sink = SQLAuditSink(url, table=f"{unique_name}_audit")
    yield sink
    sink.table.drop(sink.engine, checkfirst=True)
    sink.close()


def test_sql_sink_records_runs_and_lists_them_scoped_filtered_and_paged(sql_sink: Any) -> None:
    for who, session in [("ada", "s1"), ("ada", "s2"), ("bob", "s3")]:
        agent = _agent(
            [
                [
                    call("create_user", name=who, password="pw", profile={}),
                    call("explode", reason="x"),
                ],
                "ok",
            ],
            sql_sink,
            redact=["password"],
        )
        agent.run("go", identity=who, session_id=session)
    ada = sql_sink.query(AuditQuery(identity="ada"))
    assert len(ada) == 4
    assert {r.identity for r in ada} == {"ada"}
    assert [r.id for r in ada] == sorted((r.id for r in ada), reverse=True)  # newest first
    assert ada[-1].arguments.get("password", "[redacted]") == "[redacted]"
    assert ada[0].time.tzinfo is not None
    assert len(sql_sink.query(AuditQuery(everyone=True))) == 6
    assert {r.session_id for r in sql_sink.query(AuditQuery(identity="ada", session_id="s2"))} == {
        "s2"
    }
    failed = sql_sink.query(AuditQuery(identity="ada", tool="explode"))
    assert [(r.outcome, r.error_type) for r in failed] == [("failed", "RuntimeError")] * 2
    first = sql_sink.query(AuditQuery(identity="ada", limit=3))
    rest = sql_sink.query(AuditQuery(identity="ada", limit=3, before=first[-1].id))
    assert len(first) == 3
    assert len(rest) == 1
    assert {r.id for r in first}.isdisjoint({r.id for r in rest})
    assert sql_sink.query(AuditQuery(identity=None)) == []  # the anonymous caller has none


async def test_sql_sink_in_an_async_run_and_on_cancellation(sql_sink: Any) -> None:
    started.clear()
    agent = _agent([call("hang", seconds=30), "never"], sql_sink)
    task = asyncio.ensure_future(agent.arun("go", identity="eve"))
    assert await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    ok_agent = _agent([call("explode", reason="y"), "done"], sql_sink)
    await ok_agent.arun("go", identity="eve")
    rows = sql_sink.query(AuditQuery(identity="eve"))
    assert [r.outcome for r in rows] == ["failed", "cancelled"]


def test_sql_sink_validates_its_table_name_and_prints_ddl(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="must be letters"):
        SQLAuditSink(f"sqlite:///{tmp_path / 'x.db'}", table="audit; DROP TABLE x")
    sink = SQLAuditSink(f"sqlite:///{tmp_path / 'y.db'}", create_tables=False)
    assert "CREATE TABLE selectools_audit" in sink.ddl()
    sink.close()


def test_an_audit_log_listed_as_policy_and_observer_records_once() -> None:
    sink = MemoryAuditSink()
    audit = AuditLog(sink)
    agent = Agent([], ScriptedProvider(["hi"]), policies=[audit], observers=[audit])
    agent.observers.emit("on_approval_decided", _decision(True))
    assert [r.outcome for r in sink.records] == ["approved"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_sql_sink_keeps_a_record_with_text_a_database_refuses(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A NUL (PostgreSQL refuses it) or a lone surrogate (nothing encodes it) in a reason
    or an argument lost the record: an approver could keep an approval out of the log."""
    from datetime import UTC, datetime

    from selectools.audit import AuditQuery, AuditRecord, SQLAuditSink

    url = (
        f"sqlite:///{tmp_path / 'audit.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    sink = SQLAuditSink(url, table=f"audit_{os.urandom(4).hex()}")
    sink.write(
        AuditRecord(
            datetime.now(UTC),
            "refund",
            "approved",
            {"note": "a\x00b\ud800", "order_id": 1},
            identity="ada",
            reason="fine\x00\udfff",
        )
    )
    (stored,) = sink.query(AuditQuery(identity="ada"))
    assert stored.reason == "fine\ufffd\ufffd"
    assert stored.arguments == {"note": "a\x00b\ud800", "order_id": 1}  # escaped JSON, intact
