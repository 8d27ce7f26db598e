"""An outside attack on `{prefix}/ws` and the job routes, on both adapters (real servers).

A hostile client (or a prompt-injected model driving one) tries to reach other
callers' runs, sessions and approvals, to crash the server with malformed
frames and headers, and to get around the served limits through the WebSocket
or the job API. Each test asserts the safe behaviour.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from selectools import Agent, ConversationMemory, ModelRequest, Reply, ScriptedProvider, call, tool
from selectools.serving import ServingOptions
from selectools.sessions import InMemorySessionStore
from tests.browser.apps import WerkzeugThread
from tests.contract import apps
from tests.fakes.servers import UvicornThread

ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}
KINDS = ["fastapi", "flask"]


@dataclass
class Lab:
    """What the tools saw: refunds made, and which `forever` calls started and were stopped."""

    refunds: list[int] = field(default_factory=list)
    started: dict[str, threading.Event] = field(default_factory=dict)
    stopped: dict[str, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self, tag: str) -> tuple[threading.Event, threading.Event]:
        with self.lock:
            started = self.started.setdefault(tag, threading.Event())
            stopped = self.stopped.setdefault(tag, threading.Event())
        return started, stopped


def build_agent(lab: Lab) -> Agent:
    @tool(writes=True, requires_approval=True)
    def refund(order_id: int) -> str:
        """Refund an order (waits for a person's approval)."""
        lab.refunds.append(order_id)
        return f"refunded {order_id}"

    async def wait_forever(tag: str) -> str:
        started, stopped = lab.events(tag)
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopped.set()
            raise
        return "unreachable"

    @tool
    async def forever(tag: str) -> str:
        """Never finishes on its own; records that it started and that it was stopped."""
        return await wait_forever(tag)

    @tool(requires_approval=True)
    async def hold(tag: str) -> str:
        """Like `forever`, once a person approved it."""
        return await wait_forever(tag)

    def respond(request: ModelRequest) -> Reply | str:
        last = request.messages[-1]
        if last.role == "tool":
            return f"Tool said: {last.content}"
        text = last.content or ""
        if text.startswith("refund "):
            return Reply(calls=(call("refund", order_id=int(text.split()[1])),))
        if text.startswith(("forever ", "hold ")):
            name, tag = text.split()[:2]
            return Reply(calls=(call(name, tag=tag),))
        return f"You said: {text}"

    provider = ScriptedProvider(responder=respond)
    return Agent(
        [refund, forever, hold], provider, memory=ConversationMemory(InMemorySessionStore())
    )


@contextmanager
def serve(kind: str, agent: Agent, options: ServingOptions = apps.OPTIONS) -> Iterator[str]:
    """The contract app (bearer auth, ada and bob) on 127.0.0.1; yields its agent base URL."""
    if kind == "fastapi":
        with UvicornThread(apps.fastapi_app(agent, options)) as running:
            yield running.url + "/agent"
    else:
        with WerkzeugThread(apps.flask_app(agent, options)) as werkzeug:
            yield werkzeug.url + "/agent"


@dataclass
class Served:
    base: str
    lab: Lab


@pytest.fixture(scope="module", params=KINDS)
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    lab = Lab()
    with serve(request.param, build_agent(lab)) as base:
        yield Served(base, lab)


def ws(base: str, headers: dict[str, str] = ADA) -> ClientConnection:
    url = base.replace("http", "ws", 1) + "/ws"
    return connect(url, additional_headers=headers, open_timeout=10, max_size=None)


def until(socket: ClientConnection, *types: str) -> list[dict[str, Any]]:
    """Messages up to the first of one of `types` (each read bounded by a timeout)."""
    seen: list[dict[str, Any]] = []
    while True:
        message = json.loads(socket.recv(timeout=10))
        seen.append(message)
        if message["type"] in types:
            return seen


def error_of(socket: ClientConnection) -> dict[str, Any]:
    error: dict[str, Any] = until(socket, "error", "run_finished")[-1]
    assert error["type"] == "error", error
    detail: dict[str, Any] = error["error"]
    return detail


def pause_for_approval(base: str, prompt: str) -> str:
    """Ada starts a run over HTTP that pauses for approval (a refund, a hold). Its approval id."""
    paused = httpx.post(f"{base}/invoke", json={"input": prompt}, headers=ADA)
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "awaiting_approval"
    approval_id: str = paused.json()["approval_id"]
    return approval_id


def finished_job(base: str) -> str:
    """A job of ada's that has ended (its event stream read to the end)."""
    submitted = httpx.post(f"{base}/jobs", json={"input": "hello"}, headers=ADA)
    assert submitted.status_code == 202, submitted.text
    job_id: str = submitted.json()["id"]
    events = httpx.get(f"{base}/jobs/{job_id}/events", headers=ADA, timeout=10)
    assert "event: job_finished" in events.text
    return job_id


# -- WebSocket: malformed and out-of-order messages ----------------------------------------


BAD_FRAMES: list[tuple[str | bytes, int, str, str]] = [
    (b"\xff\xfe\x00binary", 422, "invalid_request", "JSON"),
    ('{"type": "run", "input": "a\\ud800"}', 422, "invalid_request", "lone UTF-16 surrogate"),
    ("[1, 2, 3]", 422, "invalid_request", "run, cancel or approve"),
    ('"run"', 422, "invalid_request", "run, cancel or approve"),
    ('{"input": "no type"}', 422, "invalid_request", "run, cancel or approve"),
    ('{"type": "run"}', 422, "invalid_request", "input"),
    ('{"type": "run", "input": "x", "identity": "bob"}', 422, "invalid_request", "identity"),
    ('{"type": "approve", "approve": true}', 422, "invalid_request", "approval_id"),
    ('{"type": "cancel", "run_id": "r1"}', 422, "invalid_request", "run_id"),
    (json.dumps({"type": "run", "input": "x" * 2_001}), 413, "request_too_large", "2000"),
    (json.dumps({"type": "approve", "approval_id": "apr_" + "0" * 32, "approve": True}), 404,
     "approval_not_found_error", "No pending approval"),
]  # fmt: skip


def test_ws_malformed_and_out_of_order_frames_are_answered_then_the_socket_serves(
    served: Served,
) -> None:
    with ws(served.base) as socket:
        socket.send(json.dumps({"type": "cancel"}))  # cancel before any run: harmless
        for frame, status, kind, text in BAD_FRAMES:
            socket.send(frame)
            error = error_of(socket)
            assert (error["status"], error["type"]) == (status, kind), frame
            assert text in error["message"], (frame, error)
        socket.send(json.dumps({"type": "run", "input": "still here"}))
        assert until(socket, "run_finished")[-1]["output"] == "You said: still here"


def test_ws_a_frame_over_max_body_bytes_is_refused_like_an_http_body(served: Served) -> None:
    # 30 kB of JSON (the limit is 20 kB) carrying a short input: /invoke refuses the body
    body = '{"input": "padded"' + " " * 30_000 + "}"
    assert len(body) > apps.OPTIONS.max_body_bytes
    http = httpx.post(
        f"{served.base}/invoke", content=body, headers={**ADA, "Content-Type": "application/json"}
    )
    assert http.status_code == 413
    frame = '{"type": "run", ' + body[1:]
    with ws(served.base) as socket:
        socket.send(frame)
        error = error_of(socket)
        assert (error["status"], error["type"]) == (413, "request_too_large")
        socket.send(json.dumps({"type": "run", "input": "after"}))
        assert until(socket, "run_finished")[-1]["output"] == "You said: after"


# -- WebSocket: ownership ----------------------------------------------------------------


def test_ws_cannot_approve_another_callers_run_and_it_looks_unknown(served: Served) -> None:
    approval_id = pause_for_approval(served.base, "refund 101")
    with ws(served.base, BOB) as socket:
        socket.send(json.dumps({"type": "approve", "approval_id": approval_id, "approve": True}))
        theirs = error_of(socket)
        unknown_id = "apr_" + "f" * 32
        socket.send(json.dumps({"type": "approve", "approval_id": unknown_id, "approve": True}))
        unknown = error_of(socket)
    assert (theirs["status"], theirs["type"]) == (404, "approval_not_found_error")
    same = unknown["message"].replace(unknown_id, approval_id)
    assert theirs["message"] == same  # word for word: existence is not revealed
    assert 101 not in served.lab.refunds
    with ws(served.base) as socket:  # the owner still can: bob's try consumed nothing
        socket.send(json.dumps({"type": "approve", "approval_id": approval_id, "approve": True}))
        assert until(socket, "run_finished")[-1]["output"] == "Tool said: refunded 101"
    assert served.lab.refunds.count(101) == 1


def test_ws_cannot_run_in_another_callers_session(served: Served) -> None:
    first = httpx.post(
        f"{served.base}/invoke", json={"input": "secret", "session_id": "audit-ada-1"}, headers=ADA
    )
    assert first.status_code == 200
    with ws(served.base, BOB) as socket:
        socket.send(json.dumps({"type": "run", "input": "hi", "session_id": "audit-ada-1"}))
        events = until(socket, "run_finished", "error")
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["status"] == 404
    assert "secret" not in json.dumps(events)
    stored = httpx.get(f"{served.base}/sessions/audit-ada-1", headers=ADA).json()
    assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == ["secret"]
    listed = httpx.get(f"{served.base}/sessions", headers=BOB)
    assert listed.status_code == 200
    assert "audit-ada-1" not in listed.text


def test_ws_an_approve_while_a_run_goes_is_busy_and_does_not_use_up_the_approval(
    served: Served,
) -> None:
    approval_id = pause_for_approval(served.base, "refund 202")
    started, stopped = served.lab.events("busy-approve")
    with ws(served.base) as socket:
        socket.send(json.dumps({"type": "run", "input": "forever busy-approve"}))
        until(socket, "tool_call_started")
        assert started.wait(10)
        decision = {"type": "approve", "approval_id": approval_id, "approve": True}
        socket.send(json.dumps(decision))
        busy = error_of(socket)
        assert (busy["status"], busy["type"]) == (409, "busy")
        socket.send(json.dumps({"type": "cancel"}))
        assert until(socket, "cancelled")[-1]["run_id"]
        assert stopped.wait(10)  # the cancelled run's tool was stopped
        assert 202 not in served.lab.refunds
        socket.send(json.dumps(decision))  # the approval is still there to decide
        assert until(socket, "run_finished")[-1]["output"] == "Tool said: refunded 202"
    assert served.lab.refunds.count(202) == 1


def test_ws_closing_the_socket_mid_resumed_run_stops_it(served: Served) -> None:
    """A run started by `approve` is the connection's run too: leaving stops its tools."""
    approval_id = pause_for_approval(served.base, "hold resumed")
    started, stopped = served.lab.events("resumed")
    with ws(served.base) as socket:
        socket.send(json.dumps({"type": "approve", "approval_id": approval_id, "approve": True}))
        until(socket, "tool_call_started")
        assert started.wait(10)
    assert stopped.wait(15)  # the client left with the resumed run going: it was stopped


# -- jobs: ownership and malformed requests ------------------------------------------------


def test_a_job_cannot_continue_another_callers_session(served: Served) -> None:
    first = httpx.post(
        f"{served.base}/invoke", json={"input": "private", "session_id": "audit-ada-2"}, headers=ADA
    )
    assert first.status_code == 200
    submitted = httpx.post(
        f"{served.base}/jobs", json={"input": "hi", "session_id": "audit-ada-2"}, headers=BOB
    )
    if submitted.status_code == 202:  # refused at the door, or its item fails as not found
        job_id = submitted.json()["id"]
        httpx.get(f"{served.base}/jobs/{job_id}/events", headers=BOB, timeout=10)
        (item,) = httpx.get(f"{served.base}/jobs/{job_id}", headers=BOB).json()["results"]
        assert item["status"] == 404, item
        assert "private" not in json.dumps(item)
    else:
        assert submitted.status_code == 404
    stored = httpx.get(f"{served.base}/sessions/audit-ada-2", headers=ADA).json()
    assert [m["content"] for m in stored["messages"] if m["role"] == "user"] == ["private"]


def test_job_not_yours_and_unknown_answer_the_same(served: Served) -> None:
    job_id = finished_job(served.base)
    unknown = "0123456789abcdef" * 2
    for suffix, method in [("", "GET"), ("/events", "GET"), ("", "DELETE")]:
        theirs = httpx.request(method, f"{served.base}/jobs/{job_id}{suffix}", headers=BOB)
        nothing = httpx.request(method, f"{served.base}/jobs/{unknown}{suffix}", headers=BOB)
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.text.replace(job_id, "X") == nothing.text.replace(unknown, "X")
    assert httpx.get(f"{served.base}/jobs", headers=BOB).status_code in (404, 405)  # no listing


def test_job_events_with_a_non_ascii_digit_last_event_id_is_a_422_not_a_500(
    served: Served,
) -> None:
    job_id = finished_job(served.base)
    for bad in [b"\xb2", b"1\xb9"]:  # superscript digits: str.isdigit() says yes, int() fails
        headers: dict[bytes, bytes] = {b"Authorization": b"Bearer token-ada", b"Last-Event-ID": bad}
        answer = httpx.get(f"{served.base}/jobs/{job_id}/events", headers=headers)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["error"]["type"] == "invalid_request"
        assert "Last-Event-ID" in answer.json()["error"]["message"]
    assert httpx.get(f"{served.base}/jobs/{job_id}", headers=ADA).status_code == 200


def test_job_events_after_the_last_event_of_an_ended_job_do_not_hang(served: Served) -> None:
    """An id past the end of a finished job's events: refused, or a stream that ends."""
    job_id = finished_job(served.base)
    headers = {**ADA, "Last-Event-ID": "999"}
    deadline = time.monotonic() + 4
    ended = False
    status = 0
    try:
        with httpx.stream(
            "GET", f"{served.base}/jobs/{job_id}/events", headers=headers, timeout=4
        ) as answer:
            status = answer.status_code
            for _ in answer.iter_bytes():
                if time.monotonic() > deadline:
                    break
            else:
                ended = True
    except httpx.ReadTimeout:
        ended = False
    assert status == 422 or (status == 200 and ended), "the stream never ends"


@pytest.mark.parametrize(
    "bad_input",
    [[{"role": "user", "content": [{"type": "image_url"}]}], []],
    ids=["image-part-without-url", "no-messages"],
)
def test_a_job_body_that_invoke_refuses_is_refused_at_submission(
    served: Served, bad_input: list[dict[str, Any]]
) -> None:
    invoked = httpx.post(f"{served.base}/invoke", json={"input": bad_input}, headers=ADA)
    assert invoked.status_code == 422  # /invoke refuses this body, naming what to fix
    for body in [{"input": bad_input}, {"inputs": [{"input": "fine"}, {"input": bad_input}]}]:
        submitted = httpx.post(f"{served.base}/jobs", json=body, headers=ADA)
        assert submitted.status_code == 422, submitted.text  # not 202, then a failed item
        assert submitted.json()["error"]["type"] == invoked.json()["error"]["type"]


# -- limits across /invoke, /jobs and /ws ---------------------------------------------------


def limited(unique_name: str, **changes: Any) -> ServingOptions:
    return dataclasses.replace(apps.OPTIONS, limits_namespace=unique_name, **changes)


@pytest.mark.parametrize("kind", KINDS)
def test_ws_and_jobs_share_the_rate_limit_of_http_routes(kind: str, unique_name: str) -> None:
    lab = Lab()
    with serve(kind, build_agent(lab), limited(unique_name, rate_limit="3/minute")) as base:
        assert httpx.post(f"{base}/invoke", json={"input": "a"}, headers=ADA).status_code == 200
        assert httpx.post(f"{base}/jobs", json={"input": "b"}, headers=ADA).status_code == 202
        with ws(base) as socket:
            socket.send(json.dumps({"type": "run", "input": "c"}))
            assert until(socket, "run_finished", "error")[-1]["type"] == "run_finished"
            socket.send(json.dumps({"type": "run", "input": "d"}))  # the 4th run: over
            refused = error_of(socket)
            assert (refused["status"], refused["type"]) == (429, "rate_limited")
        job = httpx.post(f"{base}/jobs", json={"input": "e"}, headers=ADA)
        assert job.status_code == 429
        assert job.json()["error"]["type"] == "rate_limited"
        assert httpx.post(f"{base}/jobs", json={"input": "f"}, headers=BOB).status_code == 202


@pytest.mark.parametrize("limit", ["rate_limit", "quota_tokens"])
@pytest.mark.parametrize("kind", KINDS)
def test_ws_limits_hold_when_streams_finish_after_a_disconnect(
    kind: str, limit: str, unique_name: str
) -> None:
    """`on_disconnect="finish"` is about HTTP streams; it must not give the WebSocket its
    own, fresh rate limit and quota counters."""
    changes: dict[str, Any] = {"rate_limit": "1/minute"} if limit == "rate_limit" else {}
    if limit == "quota_tokens":
        changes["quota_tokens"] = 1
    options = limited(unique_name, on_disconnect="finish", **changes)
    with serve(kind, build_agent(Lab()), options) as base:
        first = httpx.post(f"{base}/invoke", json={"input": "a"}, headers=ADA)
        assert first.status_code == 200
        again = httpx.post(f"{base}/invoke", json={"input": "b"}, headers=ADA)
        assert again.status_code == 429  # used up over HTTP
        expected = again.json()["error"]["type"]
        with ws(base) as socket:
            socket.send(json.dumps({"type": "run", "input": "c"}))
            refused = error_of(socket)
        assert (refused["status"], refused["type"]) == (429, expected)


@pytest.mark.parametrize("kind", KINDS)
def test_ws_a_cancelled_run_is_still_charged_to_the_quota(kind: str, unique_name: str) -> None:
    """The model answered (tokens spent) before the client cancelled at the tool: otherwise
    run, use the model, cancel, repeat, and the daily quota never counts a thing."""
    lab = Lab()
    with serve(kind, build_agent(lab), limited(unique_name, quota_tokens=1)) as base:
        started, stopped = lab.events("uncharged")
        with ws(base) as socket:
            socket.send(json.dumps({"type": "run", "input": "forever uncharged"}))
            until(socket, "tool_call_started")  # the model call is done: its tokens are used
            assert started.wait(10)
            socket.send(json.dumps({"type": "cancel"}))
            until(socket, "cancelled")
            assert stopped.wait(10)
            socket.send(json.dumps({"type": "run", "input": "free ride"}))
            refused = error_of(socket)
        assert (refused["status"], refused["type"]) == (429, "quota_exceeded")
        again = httpx.post(f"{base}/invoke", json={"input": "x"}, headers=ADA)
        assert again.status_code == 429
