"""Audit route and guardrails over real HTTP (uvicorn and werkzeug), on both adapters."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from selectools import Agent, tool
from selectools.audit import AuditLog, LogSink, MemoryAuditSink
from selectools.guardrails import Guardrails, InjectionMarkers, MaxLength, RedactPII
from selectools.providers.base import ModelRequest
from selectools.providers.scripted import ScriptedProvider, call
from selectools.serving import Caller, ServingOptions
from tests.contract import apps
from tests.contract.conftest import parse_sse
from tests.core.test_guardrails import CARD, EMAIL, HOSTILE_CUTS, IBAN, ChunkedProvider
from tests.fakes.servers import UvicornThread

ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}
AUDITED = ServingOptions(audit_route=True, audit_admin=lambda c: c.identity == "bob")


@contextmanager
def werkzeug(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@contextmanager
def uvicorn(app: Any) -> Iterator[str]:
    with UvicornThread(app) as server:
        yield server.url


Serve = Callable[..., Any]


@pytest.fixture(params=["fastapi", "flask"])
def serve(request: pytest.FixtureRequest) -> Serve:
    """`serve(agent, options)`: the contract host app on a real server; yields its base URL."""

    @contextmanager
    def run(agent: Agent, options: ServingOptions = apps.OPTIONS) -> Iterator[str]:
        if request.param == "fastapi":
            with uvicorn(apps.fastapi_app(agent, options)) as url:
                yield url
        else:
            with werkzeug(apps.flask_app(agent, options)) as url:
                yield url

    run.kind = request.param  # type: ignore[attr-defined]
    return run


@tool
def update_crm(contact: str, password: str) -> str:
    """Update a CRM contact."""
    return f"updated {contact}"


@tool
def broken_write(contact: str) -> str:
    """A write that fails."""
    raise ConnectionError("CRM down")


def audited_agent(sink: Any) -> Agent:
    def respond(request: ModelRequest) -> Any:
        last = request.messages[-1]
        if last.role == "tool":
            return "done"
        if "fail" in (last.content or ""):
            return call("broken_write", contact="x")
        return call("update_crm", contact=last.content or "", password="hunter2")

    return Agent(
        [update_crm, broken_write],
        ScriptedProvider(responder=respond),
        policies=[AuditLog(sink, redact=["password"])],
    )


# -- /audit ------------------------------------------------------------------------------


def test_audit_route_is_off_by_default(serve: Serve) -> None:
    with serve(audited_agent(MemoryAuditSink())) as url:
        assert (
            httpx.post(f"{url}/agent/invoke", json={"input": "a"}, headers=ADA).status_code == 200
        )
        assert httpx.get(f"{url}/agent/audit", headers=ADA).status_code == 404


def test_audit_route_lists_each_callers_own_records_and_everything_for_an_admin(
    serve: Serve,
) -> None:
    sink = MemoryAuditSink()
    with serve(audited_agent(sink), AUDITED) as url:
        for headers, text, session in [
            (ADA, "alpha", "ada-1"),
            (ADA, "fail now", "ada-2"),
            (ADA, "gamma", "ada-1"),
            (BOB, "bravo", "bob-1"),
        ]:
            body = {"input": text, "session_id": session}
            assert httpx.post(f"{url}/agent/invoke", json=body, headers=headers).status_code == 200

        mine = httpx.get(f"{url}/agent/audit", headers=ADA).json()
        assert [r["identity"] for r in mine["records"]] == ["ada"] * 3
        assert [r["outcome"] for r in mine["records"]] == ["ok", "failed", "ok"]  # newest first
        assert mine["next"] is None
        first = mine["records"][0]
        assert first["arguments"] == {"contact": "gamma", "password": "[redacted]"}
        assert first["session_id"] == "ada-1"
        assert first["tool"] == "update_crm"
        assert first["run_id"]
        assert first["duration_ms"] >= 0
        assert mine["records"][1]["error_type"] == "ConnectionError"

        session = httpx.get(f"{url}/agent/audit", params={"session": "ada-1"}, headers=ADA)
        assert {r["session_id"] for r in session.json()["records"]} == {"ada-1"}
        tools = httpx.get(f"{url}/agent/audit", params={"tool": "broken_write"}, headers=ADA)
        assert [r["tool"] for r in tools.json()["records"]] == ["broken_write"]

        page = httpx.get(f"{url}/agent/audit", params={"limit": 2}, headers=ADA).json()
        assert len(page["records"]) == 2
        assert page["next"] is not None
        rest = httpx.get(
            f"{url}/agent/audit", params={"limit": 2, "before": page["next"]}, headers=ADA
        ).json()
        assert [r["id"] for r in rest["records"]] == [mine["records"][2]["id"]]
        assert rest["next"] is None

        # bob is the audit admin: everyone's records, or one identity's.
        everyone = httpx.get(f"{url}/agent/audit", headers=BOB).json()["records"]
        assert sorted(r["identity"] for r in everyone) == ["ada", "ada", "ada", "bob"]
        only_ada = httpx.get(f"{url}/agent/audit", params={"identity": "ada"}, headers=BOB)
        assert len(only_ada.json()["records"]) == 3


def test_audit_route_refuses_what_a_caller_may_not_see(serve: Serve) -> None:
    sink = MemoryAuditSink()
    with serve(audited_agent(sink), AUDITED) as url:
        body = {"input": "b", "session_id": "bob-1"}
        assert httpx.post(f"{url}/agent/invoke", json=body, headers=BOB).status_code == 200
        other = httpx.get(f"{url}/agent/audit", params={"identity": "bob"}, headers=ADA)
        assert other.status_code == 403
        assert other.json()["error"]["type"] == "audit_forbidden"
        assert httpx.get(f"{url}/agent/audit", headers=ADA).json()["records"] == []
        theirs = httpx.get(f"{url}/agent/audit", params={"session": "bob-1"}, headers=ADA)
        assert theirs.json()["records"] == []  # a filter never widens the scope
        assert httpx.get(f"{url}/agent/audit").status_code == 401  # the host's auth first
        for bad in ({"limit": 0}, {"limit": 501}, {"before": "x"}, {"sort": "id"}):
            answer = httpx.get(f"{url}/agent/audit", params=bad, headers=ADA)
            assert answer.status_code == 422, bad
            assert answer.json()["error"]["type"] == "invalid_request"


def test_audit_route_without_a_listable_sink_says_what_to_add(serve: Serve) -> None:
    with serve(audited_agent(LogSink()), AUDITED) as url:
        answer = httpx.get(f"{url}/agent/audit", headers=ADA)
        assert answer.status_code == 501
        assert answer.json()["error"]["type"] == "audit_unavailable"
        assert "SQLAuditSink" in answer.json()["error"]["message"]


def test_anonymous_callers_cannot_list_the_audit_log() -> None:
    from fastapi import FastAPI
    from flask import Flask

    from selectools_fastapi import AgentRouter
    from selectools_flask import Selectools

    agent = audited_agent(MemoryAuditSink())
    api = FastAPI()
    api.include_router(AgentRouter(agent, options=AUDITED), prefix="/agent")
    flask = Flask(__name__)
    flask.config["SELECTOOLS_AUDIT_ROUTE"] = True
    Selectools(flask, agent=agent)
    with uvicorn(api) as fast_url, werkzeug(flask) as flask_url:
        for url in (fast_url, flask_url):
            httpx.post(f"{url}/agent/invoke", json={"input": "anon"})
            answer = httpx.get(f"{url}/agent/audit")
            assert answer.status_code == 403
            assert answer.json()["error"]["type"] == "audit_forbidden"


# -- guardrails -----------------------------------------------------------------------------


def guarded(provider: Any, *extra: Any) -> Agent:
    guards = Guardrails(RedactPII(), MaxLength(500), InjectionMarkers(), *extra)
    return Agent([], provider, policies=[guards])


def test_input_is_redacted_before_the_model_and_the_answer_before_the_client(
    serve: Serve,
) -> None:
    provider = ScriptedProvider([f"Your card {CARD} is on file."])
    with serve(guarded(provider)) as url:
        body = {"input": f"I am {EMAIL}, IBAN {IBAN}"}
        answer = httpx.post(f"{url}/agent/invoke", json=body, headers=ADA, timeout=20)
    assert answer.status_code == 200
    assert answer.json()["output"] == "Your card [card redacted] is on file."
    seen = provider.requests[0].messages[-1].content or ""
    assert EMAIL not in seen
    assert IBAN not in seen
    assert "[email redacted]" in seen


def test_pii_split_across_chunks_never_reaches_the_sse_client(serve: Serve) -> None:
    with serve(guarded(ChunkedProvider(HOSTILE_CUTS))) as url:
        raw = httpx.post(
            f"{url}/agent/stream", json={"input": "contact?"}, headers=ADA, timeout=20
        ).text
    for secret in (EMAIL, CARD, IBAN, "4111", "lovelace", "3704"):
        assert secret not in raw
    events = parse_sse(raw)
    text = "".join(data["text"] for name, data in events if name == "text_delta")
    finished = [data for name, data in events if name == "run_finished"]
    assert "[email redacted]" in text
    assert "[card redacted]" in text
    assert finished[0]["output"] == text


def test_openai_compatible_stream_is_redacted_too(serve: Serve) -> None:
    with serve(guarded(ChunkedProvider(HOSTILE_CUTS))) as url:
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        raw = httpx.post(
            f"{url}/agent/v1/chat/completions", json=body, headers=ADA, timeout=20
        ).text
    assert "[card redacted]" in raw
    assert "4111" not in raw
    assert "lovelace" not in raw


def test_a_refusal_answers_422_guardrail_refused(serve: Serve) -> None:
    provider = ScriptedProvider(["never"])
    with serve(guarded(provider)) as url:
        answer = httpx.post(f"{url}/agent/invoke", json={"input": "y" * 501}, headers=ADA)
        assert answer.status_code == 422
        error = answer.json()["error"]
        assert error["type"] == "guardrail_refused"
        assert "max_length" in error["message"]
        assert "limit is 500" in error["message"]
        chat = {"model": "m", "messages": [{"role": "user", "content": "y" * 501}]}
        openai = httpx.post(f"{url}/agent/v1/chat/completions", json=chat, headers=ADA)
        assert openai.status_code == 422
        assert openai.json()["error"]["type"] == "guardrail_refused"
        # Streams check the input before their first frame: a refusal is a 422 answer too.
        stream = httpx.post(f"{url}/agent/stream", json={"input": "y" * 501}, headers=ADA)
        assert stream.status_code == 422
        assert stream.json()["error"]["type"] == "guardrail_refused"
        chat["stream"] = True
        streamed = httpx.post(f"{url}/agent/v1/chat/completions", json=chat, headers=ADA)
        assert streamed.status_code == 422
        assert streamed.json()["error"]["type"] == "guardrail_refused"
    assert len(provider.requests) == 0


def test_caller_type_is_what_audit_admin_receives() -> None:
    seen: list[Any] = []
    options = ServingOptions(audit_route=True, audit_admin=lambda c: seen.append(c) or False)
    agent = audited_agent(MemoryAuditSink())
    with uvicorn(apps.fastapi_app(agent, options)) as url:
        httpx.get(f"{url}/agent/audit", headers=ADA)
    assert isinstance(seen[0], Caller)
    assert seen[0].identity == "ada"
    assert seen[0].metadata == {"tenant": "acme"}


def test_a_refused_answer_mid_stream_ends_the_stream_with_a_422_error_event(serve: Serve) -> None:
    from selectools.guardrails import DenyPatterns

    pieces = ["All fine. ", "The secret", " is out."]
    agent = guarded(ChunkedProvider(pieces), DenyPatterns(["secret"], stages=["output"]))
    with serve(agent) as url:
        answer = httpx.post(f"{url}/agent/stream", json={"input": "go"}, headers=ADA, timeout=20)
    assert answer.status_code == 200  # the stream had started
    events = parse_sse(answer.text)
    text = "".join(data["text"] for name, data in events if name == "text_delta")
    assert text == "All fine. "
    assert "secret" not in answer.text
    [error] = [data for name, data in events if name == "error"]
    assert error["error"]["type"] == "guardrail_refused"
    assert error["error"]["status"] == 422


def test_a_client_leaving_a_stream_mid_tool_leaves_a_cancelled_audit_row(serve: Serve) -> None:
    entered = threading.Event()
    written = threading.Event()
    rows: list[Any] = []

    @tool
    async def slow_export(table: str) -> str:
        """An export that takes long."""
        import asyncio

        entered.set()
        await asyncio.sleep(30)
        return "exported"

    def keep(record: Any) -> None:
        rows.append(record)
        written.set()

    agent = Agent(
        [slow_export],
        ScriptedProvider([call("slow_export", table="users"), "never"]),
        policies=[AuditLog(keep)],
    )
    quick = dataclasses.replace(apps.OPTIONS, keepalive_seconds=0.2)
    with serve(agent, quick) as url:
        with httpx.stream(
            "POST", f"{url}/agent/stream", json={"input": "export"}, headers=ADA, timeout=20
        ) as response:
            for line in response.iter_lines():
                if "tool_call_started" in line:
                    break
            assert entered.wait(10)
        # the client is gone; the server notices at its next write (a keep-alive at the latest)
        assert written.wait(25)
    [row] = rows
    assert (row.tool, row.outcome, row.identity) == ("slow_export", "cancelled", "ada")


def test_flask_config_keys_turn_the_route_on_and_name_the_admin() -> None:
    from flask import Flask

    from selectools_flask import Selectools

    sink = MemoryAuditSink()
    app = Flask(__name__)
    app.config.update(SELECTOOLS_AUDIT_ROUTE=True, SELECTOOLS_AUDIT_ADMIN=lambda caller: True)
    Selectools(app, agent=audited_agent(sink))
    client = app.test_client()
    assert client.post("/agent/invoke", json={"input": "anon"}).status_code == 200
    listed = client.get("/agent/audit").get_json()["records"]
    assert [(r["identity"], r["outcome"]) for r in listed] == [(None, "ok")]
    off = Flask(__name__)
    Selectools(off, agent=audited_agent(sink))
    assert off.test_client().get("/agent/audit").status_code == 404
