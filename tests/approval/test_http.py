"""Approval over HTTP on both adapters: writes to SQLite, S3 (moto) and HubSpot (fake server)
pause, are checked in the system itself, and happen only after the owner approves."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hubspot import HubSpot
from moto import mock_aws
from selectools_hubspot import HubSpotToolkit
from selectools_s3 import S3Toolkit
from selectools_sql import SQLToolkit

from selectools import Agent, ScriptedProvider, call
from tests.contract.conftest import FastAPIClient, FlaskClient, parse_sse
from tests.fakes.hubspot_server import FakeHubSpot

ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}


class Systems:
    """The three systems an agent may write to, and what each holds now."""

    def __init__(self, db: str, s3: Any, hub: FakeHubSpot) -> None:
        self.db, self.s3, self.hub = db, s3, hub

    def rows(self) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute("SELECT id, body FROM notes ORDER BY id").fetchall()

    def keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket="docs").get("Contents", [])
        return [item["Key"] for item in listed]

    def hubspot_writes(self) -> list[tuple[str, str, Any]]:
        return [r for r in self.hub.requests if r[0] in ("POST", "PATCH") and "search" not in r[1]]

    def tools(self) -> list[Any]:
        sql = SQLToolkit(f"sqlite:///{self.db}", writable_tables=["notes"], name_prefix="db_")
        s3 = S3Toolkit(bucket="docs", client=self.s3, allow_writes=True, name_prefix="s3_")
        client = HubSpot(access_token="test-token", host=self.hub.url)
        crm = HubSpotToolkit(client=client, allow_writes=True, name_prefix="crm_")
        return [sql, s3, crm]


@pytest.fixture
def systems(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Systems]:
    db = str(tmp_path / "app.db")
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    hub = FakeHubSpot().start()
    try:
        with mock_aws():
            s3 = boto3.client("s3", region_name="us-east-1")
            s3.create_bucket(Bucket="docs")
            yield Systems(db, s3, hub)
    finally:
        hub.stop()


@pytest.fixture(params=["fastapi", "flask"])
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def client_for(adapter: str, agent: Agent) -> Any:
    return FastAPIClient(agent) if adapter == "fastapi" else FlaskClient(agent)


def serve(adapter: str, systems: Systems, steps: list[Any]) -> tuple[Any, ScriptedProvider]:
    provider = ScriptedProvider(steps)
    return client_for(adapter, Agent(systems.tools(), provider)), provider


INSERT = call("db_execute_write", sql="INSERT INTO notes (body) VALUES ('hello')")
PUT = call("s3_write_object", key="notes/a.txt", content="hello")
CREATE = call("crm_create_record", object_type="contacts", properties={"email": "n@x.io"})


def test_every_connector_write_tool_is_marked_and_can_be_unmarked(systems: Systems) -> None:
    marked = {t.name for kit in systems.tools() for t in kit.tools() if t.requires_approval}
    writes = {t.name for kit in systems.tools() for t in kit.tools() if t.writes}
    assert marked == writes
    assert {"db_execute_write", "s3_write_object"} <= marked
    quiet = S3Toolkit(bucket="docs", client=systems.s3, allow_writes=True, require_approval=False)
    assert not any(t.requires_approval for t in quiet.tools())


def test_writes_pause_then_happen_once_when_the_owner_approves(
    adapter: str, systems: Systems
) -> None:
    api, provider = serve(adapter, systems, [[INSERT, PUT, CREATE], "All three done."])
    paused = api.request("POST", "/agent/invoke", json={"input": "do it", "session_id": "w1"})
    assert paused.status == 200, paused.body
    body = paused.body
    assert body["status"] == "awaiting_approval"
    assert [p["tool"] for p in body["pending"]] == [
        "db_execute_write",
        "s3_write_object",
        "crm_create_record",
    ]
    assert body["pending"][1]["arguments"]["key"] == "notes/a.txt"
    assert "identity" not in json.dumps(body)
    # Nothing was written anywhere.
    assert systems.rows() == []
    assert systems.keys() == []
    assert systems.hubspot_writes() == []

    url = f"/agent/approvals/{body['approval_id']}"
    stranger = api.request("POST", url, json={"approve": True}, headers=BOB)
    assert stranger.status == 404
    assert stranger.body["error"]["type"] == "approval_not_found_error"
    assert systems.rows() == []

    done = api.request("POST", url, json={"approve": True})
    assert done.status == 200, done.body
    assert done.body["status"] == "completed"
    assert done.body["output"] == "All three done."
    assert done.body["run_id"] == body["run_id"]
    assert done.body["pending"] == []
    assert systems.rows() == [(1, "hello")]
    assert systems.keys() == ["notes/a.txt"]
    assert len(systems.hubspot_writes()) == 1

    again = api.request("POST", url, json={"approve": True})
    assert again.status == 409
    assert again.body["error"]["type"] == "approval_already_decided"
    assert systems.rows() == [(1, "hello")]
    assert len(systems.hubspot_writes()) == 1
    session = api.request("GET", "/agent/sessions/w1")
    assert [m["role"] for m in session.body["messages"]] == ["user", "assistant"] + ["tool"] * 3 + [
        "assistant"
    ]
    assert provider.requests[-1].messages[-1].role == "tool"


def test_rejection_reaches_the_model_and_nothing_is_written(adapter: str, systems: Systems) -> None:
    api, provider = serve(adapter, systems, [PUT, "Understood, I did not write it."])
    paused = api.request("POST", "/agent/invoke", json={"input": "write a note"}).body
    answer = api.request(
        "POST",
        f"/agent/approvals/{paused['approval_id']}",
        json={"approve": False, "reason": "not in this bucket"},
    )
    assert answer.status == 200
    assert answer.body["output"] == "Understood, I did not write it."
    assert systems.keys() == []
    told = provider.requests[-1].messages[-1]
    assert told.role == "tool"
    assert "rejected" in (told.content or "")
    assert "not in this bucket" in (told.content or "")
    assert answer.body["tool_calls"][-1]["error_type"] == "rejected"


def test_per_call_decisions(adapter: str, systems: Systems) -> None:
    api, _ = serve(adapter, systems, [[INSERT, PUT], "One of two."])
    paused = api.request("POST", "/agent/invoke", json={"input": "both"}).body
    first, second = (p["id"] for p in paused["pending"])
    url = f"/agent/approvals/{paused['approval_id']}"
    missing = api.request("POST", url, json={"decisions": {first: {"approve": True}}})
    assert missing.status == 422
    assert second in missing.body["error"]["message"]
    decisions = {first: {"approve": True}, second: {"approve": False, "reason": "no"}}
    done = api.request("POST", url, json={"decisions": decisions})
    assert done.status == 200, done.body
    assert systems.rows() == [(1, "hello")]
    assert systems.keys() == []


def test_stream_ends_with_approval_required_and_the_decision_streams_on(
    adapter: str, systems: Systems
) -> None:
    api, _ = serve(adapter, systems, [CREATE, "Created."])
    paused = api.request("POST", "/agent/stream", json={"input": "add a contact"})
    assert paused.status == 200
    events = parse_sse(paused.text)
    names = [name for name, _ in events]
    assert names[0] == "run_started"
    assert names[-2:] == ["approval_required", "run_finished"]
    required = events[-2][1]
    assert required["pending"][0]["tool"] == "crm_create_record"
    assert events[-1][1]["status"] == "awaiting_approval"
    assert systems.hubspot_writes() == []

    url = f"/agent/approvals/{required['approval_id']}/stream"
    assert api.request("POST", url, json={"approve": True}, headers=BOB).status == 404
    assert api.request("POST", url, json={"approve": "yes"}).status == 422
    streamed = api.request("POST", url, json={"approve": True, "reason": "fine"})
    assert streamed.status == 200
    events = parse_sse(streamed.text)
    names = [name for name, _ in events]
    assert names[:2] == ["run_started", "approval_decided"]
    assert events[1][1]["approved"] is True
    assert events[1][1]["reason"] == "fine"
    assert "tool_call_finished" in names
    assert names[-1] == "run_finished"
    assert events[-1][1]["output"] == "Created."
    assert events[-1][1]["status"] == "completed"
    assert len(systems.hubspot_writes()) == 1
    assert api.request("POST", url, json={"approve": True}).status == 409


@pytest.mark.parametrize("streamed", [False, True])
def test_openai_endpoint_shows_the_pending_approval_and_never_writes(
    adapter: str, systems: Systems, streamed: bool
) -> None:
    api, _ = serve(adapter, systems, [INSERT, "never reached"])
    body = {"model": "agent", "messages": [{"role": "user", "content": "add"}], "stream": streamed}
    answer = api.request("POST", "/agent/v1/chat/completions", json=body)
    assert answer.status == 200
    if streamed:
        chunks = [data for _, data in parse_sse(answer.text) if "choices" in data]
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    else:
        text = answer.body["choices"][0]["message"]["content"]
    assert text.startswith("Waiting for approval")
    assert "db_execute_write" in text
    assert systems.rows() == []


FORGED_IDS = [
    "apr_" + "0" * 32,  # well formed, never issued
    "apr_" + "A" * 32,
    "w1",  # a session id is not an approval id here
    "x" * 300,
    "..%2F..%2Fsessions%2Fw1",
]
BAD_BODIES = [
    b"",
    b"not json",
    b"{}",
    b'{"approve": "true"}',
    b'{"approve": 1}',
    b'{"approve": true, "decisions": {}}',
    b'{"approve": true, "by": "admin"}',
    b'{"decisions": {"c": {"approve": null}}}',
    b'{"approve": false, "reason": "' + b"r" * 3000 + b'"}',
    b"[true]",
]


def test_forged_ids_are_unknown_and_bad_bodies_422_spending_nothing(
    adapter: str, systems: Systems
) -> None:
    api, _ = serve(adapter, systems, [INSERT, "ok"])
    paused = api.request("POST", "/agent/invoke", json={"input": "x", "session_id": "w1"}).body
    for approval_id in FORGED_IDS:
        for suffix in ("", "/stream"):
            url = f"/agent/approvals/{approval_id}{suffix}"
            answer = api.request("POST", url, json={"approve": True})
            assert answer.status == 404, (approval_id, answer.text)
            assert "Traceback" not in answer.text
    url = f"/agent/approvals/{paused['approval_id']}"
    headers = {**ADA, "Content-Type": "application/json"}
    for raw in BAD_BODIES:
        for suffix in ("", "/stream"):
            answer = api.request("POST", url + suffix, content=raw, headers=headers)
            assert answer.status == 422, (raw[:40], answer.text)
            assert answer.body["error"]["message"]
    assert systems.rows() == []
    # The real one is still open.
    assert api.request("POST", url, json={"approve": True}).status == 200
    assert systems.rows() == [(1, "hello")]


def test_unauthenticated_callers_never_reach_the_route(adapter: str, systems: Systems) -> None:
    api, _ = serve(adapter, systems, [INSERT, "ok"])
    paused = api.request("POST", "/agent/invoke", json={"input": "x"}).body
    url = f"/agent/approvals/{paused['approval_id']}"
    assert api.request("POST", url, json={"approve": True}, headers={}).status == 401
    assert systems.rows() == []
