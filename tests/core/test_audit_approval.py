"""Audit rows for the approval flow: paused, approved (then the call's own row), rejected."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from selectools import Agent, ScriptedProvider, call, tool
from selectools.approval import Decision
from selectools.audit import AuditLog, AuditQuery, MemoryAuditSink, SQLAuditSink

WRITES: list[int] = []
_lock = threading.Lock()


@tool(requires_approval=True, writes=True)
def refund(order_id: int, card: str) -> str:
    """Refund an order to a card."""
    with _lock:
        WRITES.append(order_id)
    return f"refunded {order_id}"


@pytest.fixture(params=["memory", "sqlite"])
def sink(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryAuditSink()
        return
    made = SQLAuditSink(f"sqlite:///{tmp_path / 'audit.db'}")
    yield made
    made.close()


def _rows(sink: Any, identity: str = "ada") -> list[tuple[str, str | None, Any]]:
    found = reversed(sink.query(AuditQuery(identity=identity)))
    return [(r.outcome, r.reason, r.arguments.get("card")) for r in found]


def test_approved_call_leaves_request_decision_and_call_rows(sink: Any) -> None:
    WRITES.clear()
    steps = [call("refund", order_id=7, card="4111 1111 1111 1111"), "Refunded."]
    agent = Agent([refund], ScriptedProvider(steps), policies=[AuditLog(sink, redact=["card"])])
    paused = agent.run("refund 7", session_id="s-ok", identity="ada")
    assert paused.status == "awaiting_approval"
    assert WRITES == []
    assert _rows(sink) == [("awaiting_approval", None, "[redacted]")]
    done = agent.resume(paused.approval_id or "", True, identity="ada")
    assert done.text == "Refunded."
    assert WRITES == [7]
    assert _rows(sink) == [
        ("awaiting_approval", None, "[redacted]"),
        ("approved", None, "[redacted]"),
        ("ok", None, "[redacted]"),
    ]
    rows = list(reversed(sink.query(AuditQuery(identity="ada"))))
    assert {r.run_id for r in rows} == {paused.run_id}  # one run, paused and resumed
    assert {r.call_id for r in rows} == {paused.pending[0].id}
    assert {r.session_id for r in rows} == {"s-ok"}


def test_rejected_call_leaves_the_reason_and_never_runs(sink: Any) -> None:
    WRITES.clear()
    steps = [call("refund", order_id=8, card="x"), "I will not refund."]
    agent = Agent([refund], ScriptedProvider(steps), policies=[AuditLog(sink)])
    agent.run("refund 8", session_id="s-no", identity="ada")
    agent.resume("s-no", Decision.reject("over the limit"), identity="ada")
    assert WRITES == []
    assert _rows(sink) == [
        ("awaiting_approval", None, "x"),
        ("rejected", "over the limit", "x"),
    ]


def test_a_failed_approved_call_is_recorded_as_failed(sink: Any) -> None:
    @tool(requires_approval=True, writes=True)
    def flaky_write(order_id: int) -> str:
        """A write whose backend is down."""
        raise ConnectionError("backend down")

    steps = [call("flaky_write", order_id=9), "It failed."]
    agent = Agent([flaky_write], ScriptedProvider(steps), policies=[AuditLog(sink)])
    paused = agent.run("write", identity="ada")
    agent.resume(paused.approval_id or "", True, identity="ada")
    rows = list(reversed(sink.query(AuditQuery(identity="ada"))))
    assert [(r.outcome, r.error_type) for r in rows] == [
        ("awaiting_approval", None),
        ("approved", None),
        ("failed", "ConnectionError"),
    ]


def test_decisions_over_http_show_up_in_the_deciders_audit_on_both_adapters() -> None:
    import httpx

    from selectools.serving import ServingOptions
    from tests.contract import apps
    from tests.contract.test_governance_http import ADA, BOB, uvicorn, werkzeug

    options = ServingOptions(audit_route=True)
    for kind in ("fastapi", "flask"):
        WRITES.clear()
        sink = MemoryAuditSink()
        steps = [
            call("refund", order_id=1, card="c"),
            "Done.",
            call("refund", order_id=2, card="d"),
            "No.",
        ]
        agent = Agent([refund], ScriptedProvider(steps), policies=[AuditLog(sink)])
        app = (
            apps.fastapi_app(agent, options)
            if kind == "fastapi"
            else apps.flask_app(agent, options)
        )
        serve = uvicorn if kind == "fastapi" else werkzeug
        with serve(app) as url:
            paused = httpx.post(f"{url}/agent/invoke", json={"input": "r1"}, headers=ADA).json()
            assert paused["status"] == "awaiting_approval"
            approval = f"{url}/agent/approvals/{paused['approval_id']}"
            assert httpx.post(approval, json={"approve": True}, headers=BOB).status_code in (
                403,
                404,
            )
            assert httpx.post(approval, json={"approve": True}, headers=ADA).status_code == 200
            second = httpx.post(f"{url}/agent/invoke", json={"input": "r2"}, headers=ADA).json()
            no = {"approve": False, "reason": "too much"}
            url2 = f"{url}/agent/approvals/{second['approval_id']}"
            assert httpx.post(url2, json=no, headers=ADA).status_code == 200
            listed = httpx.get(f"{url}/agent/audit", headers=ADA).json()["records"]
            assert httpx.get(f"{url}/agent/audit", headers=BOB).json()["records"] == []
        outcomes = [(r["outcome"], r["reason"]) for r in reversed(listed)]
        assert outcomes == [
            ("awaiting_approval", None),
            ("approved", None),
            ("ok", None),
            ("awaiting_approval", None),
            ("rejected", "too much"),
        ], kind
        assert WRITES == [1]
