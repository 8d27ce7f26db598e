"""The governance surfaces attacked from outside, on both adapters.

A malicious client (bearer token of ada or bob, tests/contract/apps.py) or a
prompt-injected model goes after `POST {prefix}/approvals/{id}` (and
`/stream`), `GET {prefix}/audit`, `GET {prefix}/analytics` and the MCP server
mounted at `{prefix}/mcp`. Each test asserts the safe behaviour the README
promises: owned, decided once, never a bare 500, nothing leaked.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from selectools import Agent, RunContext, ScriptedProvider, Tool, call, tool
from selectools.analytics import Analytics, SQLAnalyticsStore
from selectools.audit import AuditLog, AuditQuery, MemoryAuditSink, SQLAuditSink
from selectools.memory import InMemoryFactStore, memory_tools
from selectools.serving import Caller, ServingOptions
from tests.contract import apps
from tests.contract.conftest import parse_sse
from tests.fakes.servers import UvicornThread

ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}


def bob_is_admin(caller: Caller) -> bool:
    return caller.identity == "bob"


GOVERNED = ServingOptions(
    max_body_bytes=20_000,
    audit_route=True,
    audit_admin=bob_is_admin,
    analytics_route=True,
    analytics_admin=bob_is_admin,
)


@pytest.fixture(params=["fastapi", "flask"])
def adapter(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- clients -------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    text: str


class Api:
    """The contract host app of one adapter, in process (TestClient / Flask test client)."""

    def __init__(self, adapter: str, agent: Agent, options: ServingOptions = GOVERNED) -> None:
        self.adapter = adapter
        if adapter == "fastapi":
            from fastapi.testclient import TestClient

            self.fastapi = TestClient(
                apps.fastapi_app(agent, options), raise_server_exceptions=False
            )
        else:
            self.flask = apps.flask_app(agent, options).test_client()

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        headers = dict(ADA if headers is None else headers)
        if raw is not None:
            headers.setdefault("Content-Type", "application/json")
        if self.adapter == "fastapi":
            response = self.fastapi.request(
                method, path, headers=headers, json=json_body, content=raw, params=params
            )
            text = response.text
            status = response.status_code
        else:
            flask_response = self.flask.open(
                path,
                method=method,
                headers=headers,
                json=json_body,
                data=raw,
                query_string=params,
            )
            text = flask_response.get_data(as_text=True)
            status = flask_response.status_code
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        return Reply(status, body, text)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)


@contextmanager
def served(adapter: str, app: Any) -> Iterator[str]:
    """`app` (FastAPI or Flask) on a real server on 127.0.0.1; yields its base URL."""
    if adapter == "fastapi":
        with UvicornThread(app) as server:
            yield server.url
        return
    from werkzeug.serving import make_server

    wsgi = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=wsgi.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{wsgi.server_port}"
    finally:
        wsgi.shutdown()
        thread.join(10)


def host_app(adapter: str, agent: Agent, options: ServingOptions = GOVERNED) -> Any:
    if adapter == "fastapi":
        return apps.fastapi_app(agent, options)
    return apps.flask_app(agent, options)


def error_type(reply: Reply) -> str:
    assert isinstance(reply.body, dict), reply.text[:300]
    return str(reply.body["error"]["type"])


def error_message(reply: Reply) -> str:
    assert isinstance(reply.body, dict), reply.text[:300]
    return str(reply.body["error"]["message"])


# -- tools and agents ------------------------------------------------------------------------


class Ledger:
    """What the tools really did (the side effects an attacker is after)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, name: str, value: Any) -> None:
        with self.lock:
            self.calls.append((name, value))

    def of(self, name: str) -> list[Any]:
        with self.lock:
            return [value for tool_name, value in self.calls if tool_name == name]


def ledger_tools(ledger: Ledger) -> list[Tool]:
    """`refund` (needs approval) and `note`, each writing what it did to `ledger`."""

    @tool(requires_approval=True, writes=True)
    def refund(order_id: int, amount: float) -> str:
        """Refund an order."""
        ledger.add("refund", (order_id, amount))
        return f"refunded {amount} on {order_id}"

    @tool
    def note(text: str) -> str:
        """Keep a note."""
        ledger.add("note", text)
        return "noted"

    return [refund, note]


def refund_agent(ledger: Ledger, *steps: Any, policies: list[Any] | None = None) -> Agent:
    """An agent whose model asks to refund order 1 (5 USD), then says `done`."""
    script = list(steps) or [call("refund", order_id=1, amount=5.0), "done"]
    return Agent(ledger_tools(ledger), ScriptedProvider(script), policies=policies or [])


def pause(api: Api, session_id: str = "ticket-1") -> dict[str, Any]:
    paused = api.post("/agent/invoke", json_body={"input": "refund", "session_id": session_id})
    assert paused.status == 200, paused.text
    assert paused.body["status"] == "awaiting_approval"
    body: dict[str, Any] = paused.body
    return body


# == approvals ===============================================================================


def test_concurrent_deciders_on_both_routes_exactly_one_wins(adapter: str) -> None:
    ledger = Ledger()
    agent = refund_agent(ledger)
    with served(adapter, host_app(adapter, agent)) as url:
        paused = httpx.post(
            f"{url}/agent/invoke", json={"input": "refund"}, headers=ADA, timeout=30
        ).json()
        route = f"{url}/agent/approvals/{paused['approval_id']}"
        barrier = threading.Barrier(6)
        answers: list[tuple[str, httpx.Response]] = []
        lock = threading.Lock()

        def decide(suffix: str) -> None:
            with httpx.Client(timeout=30) as client:
                barrier.wait(10)
                answer = client.post(route + suffix, json={"approve": True}, headers=ADA)
            with lock:
                answers.append((suffix, answer))

        threads = [threading.Thread(target=decide, args=(s,)) for s in ("", "/stream") * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    statuses = sorted(answer.status_code for _, answer in answers)
    assert statuses == [200, 409, 409, 409, 409, 409], [a.text[:200] for _, a in answers]
    for _, answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["type"] == "approval_already_decided"
    [(suffix, won)] = [(s, a) for s, a in answers if a.status_code == 200]
    if suffix:
        assert parse_sse(won.text)[-1][0] == "run_finished"
    else:
        assert won.json()["status"] == "completed"
    assert ledger.of("refund") == [(1, 5.0)]  # ran exactly once


def _same_404(reply: Reply, approval_id: str) -> tuple[int, str]:
    """The answer with the id it names blanked, to compare answers for different ids."""
    return reply.status, reply.text.replace(approval_id, "<id>")


def test_someone_elses_approval_answers_exactly_like_an_unknown_one(adapter: str) -> None:
    ledger = Ledger()
    api = Api(adapter, refund_agent(ledger, call("refund", order_id=1, amount=5.0), "done"))
    paused = pause(api)
    real = paused["approval_id"]
    unknown = "apr_" + "0123456789abcdef" * 2
    call_id = paused["pending"][0]["id"]
    bodies: list[dict[str, Any]] = [
        {"approve": True},
        {"approve": False, "reason": "no"},
        {"decisions": {call_id: {"approve": True}}},
        {"decisions": {"not-a-call": {"approve": True}}},  # ada would get 422 naming her calls
    ]
    for suffix in ("", "/stream"):
        for body in bodies:
            theirs = api.post(f"/agent/approvals/{real}{suffix}", json_body=body, headers=BOB)
            missing = api.post(f"/agent/approvals/{unknown}{suffix}", json_body=body, headers=BOB)
            assert theirs.status == 404, theirs.text
            assert error_type(theirs) == "approval_not_found_error"
            assert _same_404(theirs, real) == _same_404(missing, unknown)
            assert call_id not in theirs.text
    assert ledger.of("refund") == []
    assert api.post(f"/agent/approvals/{real}", json_body={"approve": True}).status == 200
    # Decided now: still the same 404 to bob (never the owner's 409).
    late = api.post(f"/agent/approvals/{real}", json_body={"approve": True}, headers=BOB)
    missing = api.post(f"/agent/approvals/{unknown}", json_body={"approve": True}, headers=BOB)
    assert _same_404(late, real) == _same_404(missing, unknown)
    assert ledger.of("refund") == [(1, 5.0)]


def test_a_decision_cannot_edit_the_arguments_or_swap_the_tool(adapter: str) -> None:
    ledger = Ledger()
    api = Api(adapter, refund_agent(ledger))
    paused = pause(api)
    call_id = paused["pending"][0]["id"]
    route = f"/agent/approvals/{paused['approval_id']}"
    attempts: list[tuple[dict[str, Any], str]] = [
        ({"approve": True, "arguments": {"amount": "lots"}}, "body.arguments"),
        ({"approve": True, "arguments": {"amount": 1e9}}, "body.arguments"),
        ({"approve": True, "tool": "note"}, "body.tool"),
        (
            {"decisions": {call_id: {"approve": True, "arguments": {"amount": 1e9}}}},
            f"body.decisions.{call_id}.arguments",
        ),
        ({"decisions": {call_id: {"approve": True, "tool": "note"}}}, f"body.decisions.{call_id}"),
    ]
    for suffix in ("", "/stream"):
        for body, field in attempts:
            answer = api.post(route + suffix, json_body=body)
            assert answer.status == 422, (body, answer.text[:300])
            assert error_type(answer) == "invalid_request"
            assert field in error_message(answer), error_message(answer)
    assert ledger.calls == []
    done = api.post(route, json_body={"approve": True})
    assert done.status == 200, done.text
    assert ledger.calls == [("refund", (1, 5.0))]  # the model's own arguments, its own tool


def test_a_decision_body_with_a_duplicate_key_is_refused_not_read_last_wins(
    adapter: str,
) -> None:
    """`{"approve": false, ..., "approve": true}` reads as a rejection to any first-wins
    reader (a proxy's log, a review UI) while the server ran the refund."""
    ledger = Ledger()
    api = Api(adapter, refund_agent(ledger))
    route = f"/agent/approvals/{pause(api)['approval_id']}"
    ambiguous = b'{"approve": false, "reason": "fraud", "approve": true}'
    for suffix in ("", "/stream"):
        answer = api.post(route + suffix, raw=ambiguous)
        assert answer.status == 422, answer.text[:300]
        assert "approve" in error_message(answer)
    assert ledger.of("refund") == []
    assert api.post(route, json_body={"approve": False, "reason": "fraud"}).status == 200
    assert ledger.of("refund") == []


def test_forgetting_a_session_withdraws_its_pending_approval(adapter: str) -> None:
    """DELETE /sessions/{id} forgets a conversation; deciding its paused run afterwards
    must neither run the refund nor bring the forgotten conversation back."""
    ledger = Ledger()
    api = Api(adapter, refund_agent(ledger))
    paused = pause(api, session_id="private-1")
    assert api.request("DELETE", "/agent/sessions/private-1").status == 204
    assert api.get("/agent/sessions/private-1").status == 404
    answer = api.post(f"/agent/approvals/{paused['approval_id']}", json_body={"approve": True})
    assert answer.status in (404, 409), answer.text[:300]
    assert ledger.of("refund") == []
    assert api.get("/agent/sessions/private-1").status == 404


def test_a_decided_run_answers_json_even_when_the_model_sends_a_lone_surrogate(
    adapter: str,
) -> None:
    """After the decision the (prompt-injected) model calls a tool with "\\ud800" in an
    argument: the tools ran, so the answer must be the run's JSON, never a bare 500."""
    ledger = Ledger()
    steps = [call("refund", order_id=1, amount=5.0), call("note", text="x\ud800"), "done"]
    api = Api(adapter, refund_agent(ledger, *steps))
    paused = pause(api)
    answer = api.post(f"/agent/approvals/{paused['approval_id']}", json_body={"approve": True})
    assert answer.body is not None, f"bare {answer.status}: {answer.text[:120]!r}"
    assert answer.status == 200, answer.text[:300]
    assert answer.body["status"] == "completed"
    assert ledger.of("refund") == [(1, 5.0)]


def test_upstream_error_text_never_reaches_the_decider_nor_the_audit_log(
    adapter: str, openai_server: Any
) -> None:
    from selectools import OpenAIProvider
    from tests.fakes.openai_server import FakeReply

    secret = "Incorrect API key provided: sk-proj-****wxyz. You belong to org-TOPSECRET."
    for _ in range(2):
        openai_server.add(
            FakeReply(tool_calls=[("refund", {"order_id": 1, "amount": 5.0})]),
            FakeReply(status=401, error={"message": secret}),
        )
    ledger = Ledger()
    sink = MemoryAuditSink()
    provider = OpenAIProvider(
        "gpt-4o-mini", api_key="sk-live-KEY123", base_url=openai_server.base_url
    )
    agent = Agent(ledger_tools(ledger), provider, policies=[AuditLog(sink)])
    api = Api(adapter, agent)
    for suffix in ("", "/stream"):
        paused = pause(api, session_id=f"up{len(suffix)}")
        answer = api.post(
            f"/agent/approvals/{paused['approval_id']}{suffix}", json_body={"approve": True}
        )
        if suffix:
            assert answer.status == 200
            [(name, data)] = parse_sse(answer.text)[-1:]
            assert name == "error"
            assert data["error"]["type"] == "provider_auth_error"
        else:
            assert answer.status == 502, answer.text[:300]
            assert error_type(answer) == "provider_auth_error"
        for leaked in ("TOPSECRET", "wxyz", "KEY123"):
            assert leaked not in answer.text
    logged = json.dumps([r.to_dict() for r in sink.query(AuditQuery(everyone=True))])
    assert "refund" in logged
    for leaked in ("TOPSECRET", "wxyz", "KEY123"):
        assert leaked not in logged


# == /audit ==================================================================================


@tool
def send_money(to: str, amount: int) -> str:
    """Send money."""
    return f"sent {amount} to {to}"


def audited(sink: Any, *steps: Any) -> Agent:
    script = list(steps) or [call("send_money", to="carol", amount=5), "done"]
    return Agent([send_money], ScriptedProvider(script, cycle=True), policies=[AuditLog(sink)])


@pytest.mark.parametrize("before", ["9223372036854775808", "1" + "0" * 40])
def test_an_absurd_audit_cursor_is_a_422_naming_it(
    adapter: str, tmp_path: Path, before: str
) -> None:
    sink = SQLAuditSink(f"sqlite:///{tmp_path / 'audit.db'}")
    api = Api(adapter, audited(sink))
    assert api.post("/agent/invoke", json_body={"input": "pay"}).status == 200
    answer = api.get("/agent/audit", params={"before": before})
    assert answer.status == 422, answer.text[:300]
    assert error_type(answer) == "invalid_request"
    assert "before" in error_message(answer)
    assert len(api.get("/agent/audit").body["records"]) == 1  # and it keeps serving


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_a_model_sent_lone_surrogate_neither_hides_a_call_from_the_audit_log_nor_breaks_it(
    adapter: str, tmp_path: Path, kind: str
) -> None:
    """Before, the transfer ran with the broken text; then the sqlite sink lost the record
    (UnicodeEncodeError, logged) and with the memory sink every listing of ada's (and the
    admin's) records was a bare 500. Now the model gets the arguments back as an error
    (like any invalid arguments, before policies see the call: nothing ran, nothing to
    log) and listing keeps working."""
    sink = SQLAuditSink(f"sqlite:///{tmp_path / 'a.db'}") if kind == "sqlite" else MemoryAuditSink()
    sent: list[str] = []

    @tool
    def transfer(to: str, amount: int) -> str:
        """Send money."""
        sent.append(to)
        return "sent"

    script = ScriptedProvider([call("transfer", to="mallory\ud800", amount=900), "done"])
    api = Api(adapter, Agent([transfer], script, policies=[AuditLog(sink)]))
    answer = api.post("/agent/invoke", json_body={"input": "pay my bill"})
    assert answer.status == 200, answer.text[:300]
    assert answer.body["tool_calls"][0]["error_type"] == "invalid_arguments"
    assert sent == []  # a tool never receives text that cannot be encoded
    for headers in (ADA, BOB):  # the owner, and bob as audit admin
        listed = api.get("/agent/audit", headers=headers)
        assert listed.status == 200, f"{listed.status}: {listed.text[:120]!r}"
        rows = [(r["tool"], r["outcome"], r["identity"]) for r in listed.body["records"]]
        assert rows == []


@pytest.mark.postgres
def test_nul_characters_in_audit_and_analytics_filters_are_422s_on_postgresql(
    adapter: str, postgres_url: str, unique_name: str
) -> None:
    import sqlalchemy as sa

    sink = SQLAuditSink(postgres_url, table=unique_name)
    store = SQLAnalyticsStore(postgres_url, prefix=f"{unique_name}_an")
    agent = Agent(
        [send_money],
        ScriptedProvider([call("send_money", to="carol", amount=5), "done"], cycle=True),
        policies=[AuditLog(sink), Analytics(store)],
    )
    try:
        api = Api(adapter, agent)
        assert api.post("/agent/invoke", json_body={"input": "pay"}).status == 200
        attacks = [
            ("/agent/audit", {"session": "a\x00b"}, ADA),
            ("/agent/audit", {"tool": "send_money\x00"}, ADA),
            ("/agent/audit", {"identity": "ada\x00"}, BOB),  # bob is the admin
            ("/agent/analytics", {"session": "a\x00b"}, ADA),
            ("/agent/analytics", {"identity": "ada\x00"}, BOB),
        ]
        for path, params, headers in attacks:
            answer = api.get(path, params=params, headers=headers)
            assert answer.status == 422, (path, params, answer.text[:200])
            assert error_type(answer) == "invalid_request"
            assert next(iter(params)) in error_message(answer)
        assert api.get("/agent/audit").status == 200
    finally:
        sink.close()
        engine = sa.create_engine(postgres_url)
        with engine.begin() as conn:
            for table in sa.inspect(engine).get_table_names():
                if table.startswith(unique_name):
                    conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        engine.dispose()


@pytest.mark.postgres
def test_a_nul_in_a_decisions_reason_cannot_keep_the_approval_out_of_the_audit_log(
    adapter: str, postgres_url: str, unique_name: str
) -> None:
    """PostgreSQL text cannot hold NUL: the `approved` row fails to insert (logged and
    dropped) while the refund runs, so an approver can erase its own approval."""
    import sqlalchemy as sa

    ledger = Ledger()
    sink = SQLAuditSink(postgres_url, table=unique_name)
    try:
        api = Api(adapter, refund_agent(ledger, policies=[AuditLog(sink)]))
        paused = pause(api)
        answer = api.post(
            f"/agent/approvals/{paused['approval_id']}",
            json_body={"approve": True, "reason": "fine\x00"},
        )
        assert answer.status < 500, answer.text[:300]
        outcomes = [r.outcome for r in sink.query(AuditQuery(identity="ada"))]
        if ledger.of("refund"):  # it ran: its approval must be on record
            assert "approved" in outcomes, outcomes
        else:
            assert answer.status == 422
    finally:
        sink.close()
        engine = sa.create_engine(postgres_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{unique_name}"'))
        engine.dispose()


def test_no_client_header_or_parameter_makes_a_caller_an_admin(adapter: str) -> None:
    sink = MemoryAuditSink()
    api = Api(
        adapter,
        Agent(
            [send_money],
            ScriptedProvider([call("send_money", to="carol", amount=5), "done"], cycle=True),
            policies=[AuditLog(sink), Analytics()],
        ),
    )
    for headers, session in ((ADA, "ada-1"), (BOB, "bob-1")):
        body = {"input": "pay", "session_id": session}
        assert api.post("/agent/invoke", json_body=body, headers=headers).status == 200
    forged = {
        **ADA,
        "X-User": "bob",
        "X-Forwarded-User": "bob",
        "X-Remote-User": "bob",
        "X-Admin": "true",
        "X-Role": "admin",
        "X-Selectools-Admin": "1",
        "Cookie": "role=admin; user=bob",
    }
    mine = api.get("/agent/audit", headers=forged)
    assert mine.status == 200
    assert {r["identity"] for r in mine.body["records"]} == {"ada"}
    assert api.get("/agent/audit", headers=forged, params={"identity": "bob"}).status == 403
    theirs = api.get("/agent/audit", headers=forged, params={"session": "bob-1"})
    assert theirs.body["records"] == []
    usage = api.get("/agent/analytics", headers=forged)
    assert usage.status == 200
    assert list(usage.body["identities"]) == ["ada"]
    assert list(usage.body["sessions"]) == ["ada-1"]
    assert usage.body["runs"] == 1
    assert api.get("/agent/analytics", headers=forged, params={"identity": "bob"}).status == 403
    other = api.get("/agent/analytics", headers=forged, params={"session": "bob-1"})
    assert other.body["runs"] == 0


# == MCP mounted at {prefix}/mcp ===============================================================


@pytest.fixture
def mcp_sdk() -> None:
    pytest.importorskip("mcp", reason='needs the MCP SDK: pip install -e ".[mcp]"')


def mcp_host(adapter: str, agent: Agent, options: ServingOptions = GOVERNED) -> Any:
    """The contract host app (bearer auth, tenant context) with `mcp=True`."""
    if adapter == "fastapi":
        from fastapi import Depends, FastAPI, Header, HTTPException

        from selectools_fastapi import AgentRouter

        def current_user(authorization: str | None = Header(default=None)) -> str:
            user = apps.TOKENS.get((authorization or "").removeprefix("Bearer "))
            if user is None:
                raise HTTPException(status_code=401, detail="login required")
            return user

        def tenant() -> dict[str, str]:
            return {"tenant": "acme"}

        app = FastAPI()
        router = AgentRouter(
            agent, identity=current_user, context=tenant, options=options, mcp=True
        )
        app.include_router(router, prefix="/agent", dependencies=[Depends(current_user)])
        return app
    from flask import Flask, abort, g, request

    from selectools_flask import Selectools

    flask_app = Flask(__name__)

    @flask_app.before_request
    def login() -> None:
        user = apps.TOKENS.get((request.headers.get("Authorization") or "").removeprefix("Bearer "))
        if user is None:
            abort(401)
        g.user = user

    Selectools(
        flask_app,
        agent=agent,
        identity=lambda: g.user,
        context=lambda: {"tenant": "acme"},
        options=options,
        mcp=True,
    )
    return flask_app


def mcp_client(url: str, token: str) -> Any:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http))


def text_of(result: Any) -> str:
    return str(result.content[0].text)


@tool
def whoami(ctx: RunContext) -> str:
    """Who is asking, as the host app identified them."""
    return f"identity={ctx.identity} tenant={ctx.metadata.get('tenant')}"


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


async def test_mcp_calls_reach_tools_with_the_hosts_context_like_http_runs(
    adapter: str, mcp_sdk: None
) -> None:
    agent = Agent([whoami], ScriptedProvider([call("whoami"), "done"]))
    with served(adapter, mcp_host(adapter, agent)) as url:
        async with httpx.AsyncClient() as http:
            run = await http.post(f"{url}/agent/invoke", json={"input": "who"}, headers=ADA)
        over_http = run.json()["tool_calls"][0]["output"]
        async with mcp_client(f"{url}/agent/mcp", "token-ada") as client:
            over_mcp = text_of(await client.call_tool("whoami", {}))
    assert over_http == "identity=ada tenant=acme"
    assert over_mcp == over_http


async def test_mcp_tool_calls_count_in_the_callers_analytics_and_only_there(
    adapter: str, mcp_sdk: None
) -> None:
    analytics = Analytics()
    agent = Agent([lookup], ScriptedProvider(["unused"]), policies=[analytics])
    with served(adapter, mcp_host(adapter, agent)) as url:
        async with mcp_client(f"{url}/agent/mcp", "token-ada") as client:
            for key in ("a", "b"):
                assert text_of(await client.call_tool("lookup", {"key": key})) == key.upper()
        async with httpx.AsyncClient() as http:
            ada = (await http.get(f"{url}/agent/analytics", headers=ADA)).json()
            bob_view = await http.get(
                f"{url}/agent/analytics", headers=BOB, params={"identity": "bob"}
            )
    assert ada["tools"].get("lookup", {}).get("calls") == 2, ada
    assert bob_view.status_code == 200
    assert "lookup" not in bob_view.json()["tools"]


async def test_mcp_memory_tools_never_reach_another_callers_facts(
    adapter: str, mcp_sdk: None
) -> None:
    facts = InMemoryFactStore()
    agent = Agent(memory_tools(facts), ScriptedProvider(["unused"]))
    with served(adapter, mcp_host(adapter, agent)) as url:
        async with mcp_client(f"{url}/agent/mcp", "token-ada") as client:
            saved = text_of(await client.call_tool("remember", {"fact": "ada's PIN is 4242"}))
        fact_id = re.findall(r"\[([^\]]+)\]", saved)[0]
        async with mcp_client(f"{url}/agent/mcp", "token-bob") as client:
            recalled = text_of(await client.call_tool("recall", {"query": "PIN"}))
            forgot = text_of(await client.call_tool("forget", {"fact_id": fact_id}))
            spoofed = await client.call_tool(
                "recall", {"query": "PIN", "context": {"identity": "ada"}}
            )
    assert "4242" not in recalled
    assert forgot != "Forgotten."
    assert spoofed.is_error or "4242" not in text_of(spoofed)
    assert [f.text for f in facts.recent("ada", 5)] == ["ada's PIN is 4242"]


def test_a_get_on_the_mounted_mcp_endpoint_answers_promptly(adapter: str, mcp_sdk: None) -> None:
    """The app is stateless: a GET (the standalone SSE stream) must be answered at once
    (405, or a stream's headers), never hold the request (a Flask worker) forever."""
    agent = Agent([lookup], ScriptedProvider(["unused"]))
    headers = {**ADA, "Accept": "text/event-stream"}
    with served(adapter, mcp_host(adapter, agent)) as url:
        status: int | None = None
        try:
            with httpx.stream("GET", f"{url}/agent/mcp", headers=headers, timeout=2) as answer:
                status = answer.status_code
        except httpx.ReadTimeout:
            status = None
        assert status in (200, 405), "no answer to GET /agent/mcp within 2 s"
        listed = httpx.post(
            f"{url}/agent/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={**ADA, "Accept": "application/json, text/event-stream"},
            timeout=10,
        )
        assert listed.status_code == 200
