"""Hostile clients and failing upstreams, against both adapters: never a bare 500.

Each case here was reproduced against the first version of the adapters
(issue #12): malformed bodies, huge chunked bodies, the host's own HTTP
errors, odd session ids, the error table, timeouts and upstream faults.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from selectools import Agent, AgentConfig, OpenAIProvider
from tests.contract import apps
from tests.contract.conftest import AUTH, Answer, FastAPIClient, FlaskClient, parse_sse
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

JSON = {**AUTH, "Content-Type": "application/json"}


def post_raw(api: Any, path: str, raw: bytes) -> Answer:
    answer: Answer = api.request("POST", path, content=raw, headers=JSON)
    return answer


def assert_documented_error(answer: Answer, status: int, kind: str) -> None:
    assert answer.status == status, answer.text
    assert answer.body is not None, answer.text
    assert answer.body["error"]["type"] == kind
    assert answer.body["error"]["message"]
    assert "Traceback" not in answer.text


# -- malformed bodies (item 2) -------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        # a tool call without a function name (KeyError in Message.from_dict)
        b'{"input": [{"role": "assistant", "tool_calls": [{"id": "c1", "function": {}}]},'
        b' {"role": "user", "content": "go on"}]}',
        # wrong types (TypeError / AttributeError)
        b'{"input": [{"role": "user", "content": 5}]}',
        b'{"input": [{"role": "assistant", "tool_calls": [{"function": "x"}]}]}',
        b'{"input": ["just a string"]}',
        b'{"input": [{"role": "tool", "content": "result without its call id"}]}',
        # a lone surrogate: valid JSON escapes, not a valid string
        b'{"input": "\\ud800 hello"}',
        # not UTF-8
        b'{"input": "\xff\xfe"}',
        # nested past any parser's recursion limit
        b'{"input": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b"",
        b"[1, 2, 3]",
    ],
    ids=[
        "tool-call-without-name",
        "content-not-text",
        "function-not-object",
        "message-not-object",
        "tool-message-without-call-id",
        "lone-surrogate",
        "invalid-utf8",
        "deep-nesting",
        "empty",
        "not-an-object",
    ],
)
@pytest.mark.parametrize("path", ["/agent/invoke", "/agent/stream", "/agent/batch"])
def test_malformed_bodies_are_422_saying_what_to_fix(api: Any, raw: bytes, path: str) -> None:
    if path == "/agent/batch" and raw.startswith(b'{"input"'):
        raw = b'{"inputs": [' + raw + b"]}"
    assert_documented_error(post_raw(api, path, raw), 422, "invalid_request")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"messages": [{"content": "no role"}]}',
        b'{"messages": [{"role": "user", "content": {"nested": "object"}}]}',
        b'{"messages": [{"role": "user", "content": "\\udc00"}]}',
    ],
)
def test_malformed_chat_completions_are_422(api: Any, raw: bytes) -> None:
    answer = post_raw(api, "/agent/v1/chat/completions", raw)
    assert_documented_error(answer, 422, "invalid_request")
    assert answer.body["error"]["fields"]


# -- body size counted while streaming (item 3) --------------------------------------


class ChunkedBody(io.RawIOBase):
    """A 5 MB body that counts how much of it the server read."""

    def __init__(self, total: int = 5_000_000) -> None:
        self.total = total
        self.sent = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), 65_536, self.total - self.sent)
        buffer[:size] = b"x" * size
        self.sent += size
        return size

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.read(65_536):
            yield chunk


async def asgi_post(app: Any, body: ChunkedBody) -> tuple[int, Any]:
    """POST /agent/invoke through the ASGI interface, the body as chunks with no length."""
    chunks = body.chunks()
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/agent/invoke",
        "raw_path": b"/agent/invoke",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", b"Bearer token-ada"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        chunk = next(chunks, b"")
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(payload)


def wsgi_post(app: Any, body: ChunkedBody) -> tuple[int, Any]:
    """The same through WSGI, as a server does for a chunked upload (no CONTENT_LENGTH)."""
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder("/agent/invoke", method="POST", headers=JSON).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = body
    environ["wsgi.input_terminated"] = True
    started: list[str] = []
    payload = b"".join(app(environ, lambda status, headers: started.append(status)))
    return int(started[0].split()[0]), json.loads(payload)


@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_a_huge_chunked_body_is_refused_at_the_limit_not_buffered(adapter: str) -> None:
    """No Content-Length: the server must stop reading at `max_body_bytes` (20 kB here)."""
    from tests.fakes.agents import make_agent

    body = ChunkedBody()
    if adapter == "fastapi":  # what uvicorn does: hand the body over chunk by chunk
        status, payload = asyncio.run(asgi_post(apps.fastapi_app(make_agent()), body))
    else:
        status, payload = wsgi_post(apps.flask_app(make_agent()), body)
    assert status == 413
    assert payload["error"]["type"] == "request_too_large"
    assert body.sent < apps.OPTIONS.max_body_bytes + 2 * 65_536  # read stopped at the limit


def test_declared_length_over_the_limit_is_refused_before_reading(api: Any) -> None:
    raw = b'{"input": "' + b"y" * 30_000 + b'"}'
    assert_documented_error(post_raw(api, "/agent/invoke", raw), 413, "request_too_large")


# -- the host's own answers pass through (item 4) ------------------------------------


def test_fastapi_host_exceptions_pass_through_untouched() -> None:
    from fastapi import FastAPI, HTTPException
    from fastapi.testclient import TestClient
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from selectools_fastapi import AgentRouter
    from tests.fakes.agents import make_agent

    def starlette_auth() -> str:  # what many auth libraries raise
        raise StarletteHTTPException(403, "starlette says no")

    def fastapi_auth() -> str:
        raise HTTPException(401, "fastapi says no", headers={"WWW-Authenticate": "Bearer"})

    app = FastAPI()
    app.include_router(AgentRouter(make_agent(), identity=starlette_auth), prefix="/a")
    app.include_router(AgentRouter(make_agent(), identity=fastapi_auth), prefix="/b")
    client = TestClient(app, raise_server_exceptions=False)
    first = client.post("/a/invoke", json={"input": "hi"})
    assert (first.status_code, first.json()) == (403, {"detail": "starlette says no"})
    second = client.post("/b/invoke", json={"input": "hi"})
    assert (second.status_code, second.json()) == (401, {"detail": "fastapi says no"})
    assert second.headers["www-authenticate"] == "Bearer"


def test_flask_host_exceptions_pass_through_untouched() -> None:
    from flask import Flask, abort

    from selectools_flask import Selectools
    from tests.fakes.agents import make_agent

    def forbidden() -> str:
        abort(403)

    app = Flask(__name__)

    @app.errorhandler(403)
    def host_page(error: Any) -> tuple[str, int]:
        return "the host's own 403 page", 403

    Selectools(app, agent=make_agent(), identity=forbidden)
    answer = app.test_client().post("/agent/invoke", json={"input": "hi"})
    assert answer.status_code == 403
    assert answer.get_data(as_text=True) == "the host's own 403 page"


# -- session ids (item 9) ------------------------------------------------------------


@pytest.mark.parametrize(
    "session_id",
    ["a\x00b", "a/b", "../etc", "tab\there", "new\nline", "x" * 10_000, "space d", "ü"],
    ids=["nul", "slash", "dots-slash", "tab", "newline", "10kB", "space", "non-ascii"],
)
def test_session_ids_outside_the_documented_shape_are_422(api: Any, session_id: str) -> None:
    answer = api.request("POST", "/agent/invoke", json={"input": "hi", "session_id": session_id})
    assert_documented_error(answer, 422, "invalid_request")
    assert answer.body["error"]["fields"][0]["loc"] == ["body", "session_id"]


@pytest.mark.parametrize("path", ["a%00b", "a%2Fb", "x" * 200, "semi;colon"])
def test_session_ids_in_paths_are_checked_too(api: Any, path: str) -> None:
    for method in ("GET", "DELETE"):
        answer = api.request(method, f"/agent/sessions/{path}")
        assert_documented_error(answer, 422, "invalid_request")


def test_the_documented_session_id_shape_works(api: Any) -> None:
    session_id = "Tenant_7:user-42.support"
    answer = api.request("POST", "/agent/invoke", json={"input": "hi", "session_id": session_id})
    assert answer.status == 200
    assert api.request("GET", f"/agent/sessions/{session_id}").status == 200
    assert api.request("GET", f"/agent/sessions/{'z' * 128}").status == 404


# -- the whole error table (item 10) -------------------------------------------------


@pytest.mark.parametrize(
    ("request_args", "status", "kind"),
    [
        (("GET", "/agent/sessions/nobody-here", {}), 404, "session_not_found_error"),
        (("POST", "/agent/invoke", {"json": {"input": "x" * 2_001}}), 413, "request_too_large"),
        (("POST", "/agent/invoke", {"json": {"nope": 1}}), 422, "invalid_request"),
        (("POST", "/agent/invoke", {"json": {"input": "fail:ratelimit"}}), 429, "rate_limit_error"),
        (("POST", "/agent/invoke", {"json": {"input": "fail:bug"}}), 500, "internal_error"),
        (("POST", "/agent/invoke", {"json": {"input": "fail:auth"}}), 502, "provider_auth_error"),
        (
            ("POST", "/agent/invoke", {"json": {"input": "fail:timeout"}}),
            504,
            "provider_timeout_error",
        ),
        (
            ("POST", "/agent/v1/chat/completions", {"json": {"messages": []}}),
            422,
            "invalid_request",
        ),
        (
            ("POST", "/agent/batch", {"json": {"inputs": [{"input": "a"}] * 5}}),
            413,
            "request_too_large",
        ),
    ],
    ids=["404", "413", "422", "429", "500", "502", "504", "422-openai", "413-batch"],
)
def test_error_table(
    api: Any, request_args: tuple[str, str, dict[str, Any]], status: int, kind: str
) -> None:
    method, path, kwargs = request_args
    answer = api.request(method, path, **kwargs)
    assert_documented_error(answer, status, kind)
    assert set(answer.body) == {"error"}


def test_a_too_long_input_in_a_batch_is_413_for_that_input(api: Any) -> None:
    inputs = [{"input": "x" * 2_001}, {"input": "hello"}]
    answer = api.request("POST", "/agent/batch", json={"inputs": inputs})
    assert answer.status == 200
    first, second = answer.body["results"]
    assert first["status"] == 413
    assert first["error"]["type"] == "request_too_large"
    assert second["status"] == 200


def test_validation_errors_name_where_the_problem_is() -> None:
    """A header the host's dependency validates is described as a header, not a body."""
    from fastapi import FastAPI, Header
    from fastapi.testclient import TestClient

    from selectools_fastapi import AgentRouter
    from tests.fakes.agents import make_agent

    def tenant(x_tenant: int = Header()) -> dict[str, int]:
        return {"tenant": x_tenant}

    app = FastAPI()
    app.include_router(AgentRouter(make_agent(), context=tenant))
    answer = TestClient(app).post("/invoke", json={"input": "hi"}, headers={"x-tenant": "acme"})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["type"] == "invalid_request"
    assert "header x-tenant" in error["message"]
    assert "body" not in error["message"]
    assert error["fields"][0]["loc"] == ["header", "x-tenant"]


# -- upstream faults and timeouts through both adapters (items 5 and 7) --------------


def client_for(adapter: str, agent: Agent) -> FastAPIClient | FlaskClient:
    return FastAPIClient(agent) if adapter == "fastapi" else FlaskClient(agent)


def upstream_agent(server: FakeOpenAIServer, run_timeout: float | None = None) -> Agent:
    provider = OpenAIProvider("gpt-4o-mini", api_key="sk-test", base_url=server.base_url)
    return Agent(provider=provider, config=AgentConfig(run_timeout=run_timeout))


def within(seconds: float, call: Any) -> Any:
    """Call in a thread; fail if it has not returned by then (the upstream never answers)."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert box, f"no answer within {seconds} s: the run timeout was not honoured"
    return box[0]


ROUTES = {
    "invoke": ("/agent/invoke", {"input": "hi"}),
    "stream": ("/agent/stream", {"input": "hi"}),
    "chat": ("/agent/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    "chat-stream": (
        "/agent/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "stream": True},
    ),
    "batch": ("/agent/batch", {"inputs": [{"input": "hi"}]}),
}


def error_of(route: str, answer: Answer) -> tuple[int, str]:
    """(status, error type) however the route reports it."""
    if route == "stream":
        name, data = parse_sse(answer.text)[-1]
        assert name == "error"
        return data["error"]["status"], data["error"]["type"]
    if route == "chat-stream":
        data = parse_sse(answer.text)[-1][1]
        return answer.status, data["error"]["type"]
    if route == "batch":
        item = answer.body["results"][0]
        return item["status"], item["error"]["type"]
    return answer.status, answer.body["error"]["type"]


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_a_model_that_never_answers_is_a_504_within_the_run_timeout(
    openai_server: FakeOpenAIServer, adapter: str, route: str
) -> None:
    openai_server.add(FakeReply(fault="hang"))
    api = client_for(adapter, upstream_agent(openai_server, run_timeout=0.5))
    path, body = ROUTES[route]
    answer = within(15, lambda: api.request("POST", path, json=body))
    status, kind = error_of(route, answer)
    if route != "chat-stream":
        assert status == 504
    assert kind == "run_timeout_error"


@pytest.mark.parametrize("entry", ["run", "arun", "stream", "astream"])
def test_every_entry_point_stops_within_the_run_timeout(
    openai_server: FakeOpenAIServer, entry: str
) -> None:
    import asyncio

    from selectools import RunTimeoutError

    openai_server.add(FakeReply(fault="hang"))
    agent = upstream_agent(openai_server, run_timeout=0.5)

    async def consume_async() -> None:
        if entry == "arun":
            await agent.arun("hi")
        else:
            [event async for event in agent.astream("hi")]

    def attempt() -> BaseException | None:
        try:
            if entry == "run":
                agent.run("hi")
            elif entry == "stream":
                list(agent.stream("hi"))
            else:
                asyncio.run(consume_async())
        except BaseException as exc:
            return exc
        return None

    assert isinstance(within(15, attempt), RunTimeoutError)


@pytest.mark.parametrize(
    ("route", "fault"),
    [
        *((route, "not_json") for route in ("invoke", "stream", "chat", "chat-stream")),
        *(
            (route, fault)
            for route in ("stream", "chat-stream")
            for fault in ("empty_stream", "cut_stream")
        ),
    ],
)
@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_unreadable_upstream_answers_are_502(
    openai_server: FakeOpenAIServer, adapter: str, route: str, fault: str
) -> None:
    openai_server.add(FakeReply(fault=fault))  # type: ignore[arg-type]
    path, body = ROUTES[route]
    answer = client_for(adapter, upstream_agent(openai_server)).request("POST", path, json=body)
    status, kind = error_of(route, answer)
    if route != "chat-stream":
        assert status == 502
    assert kind == "provider_error"
    if route == "stream":
        assert "run_finished" not in [name for name, _ in parse_sse(answer.text)]


@pytest.mark.parametrize("route", ["invoke", "stream", "chat", "batch"])
@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_upstream_error_text_never_reaches_clients(
    openai_server: FakeOpenAIServer, adapter: str, route: str
) -> None:
    secret = "Incorrect API key provided: sk-proj-****wxyz. You belong to org-TOPSECRET."
    openai_server.add(FakeReply(status=401, error={"message": secret}))
    path, body = ROUTES[route]
    answer = client_for(adapter, upstream_agent(openai_server)).request("POST", path, json=body)
    assert error_of(route, answer) == (502, "provider_auth_error")
    assert "TOPSECRET" not in answer.text
    assert "wxyz" not in answer.text
