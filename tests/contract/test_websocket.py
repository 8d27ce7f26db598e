"""`{prefix}/ws` on both adapters, with a real WebSocket client against uvicorn and werkzeug."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from selectools.serving import Caller, ServingOptions
from selectools.serving.ws import Disconnected, serve_connection
from tests.browser.apps import (
    HANG_CANCELLED,
    SLOW_ANSWER,
    WerkzeugThread,
    build_agent,
    fastapi_app,
    flask_app,
)
from tests.fakes.servers import UvicornThread

ADA = {"X-API-Key": "key-ada"}


@pytest.fixture(scope="module", params=["fastapi", "flask"])
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    app, server = (
        (fastapi_app(), UvicornThread)
        if request.param == "fastapi"
        else (flask_app(), WerkzeugThread)
    )
    with server(app) as running:
        yield running.url + "/bot"


def ws(base: str, headers: dict[str, str] | None = ADA) -> ClientConnection:
    return connect(
        base.replace("http", "ws", 1) + "/ws", additional_headers=headers, open_timeout=10
    )


def until(socket: ClientConnection, *types: str) -> list[dict[str, Any]]:
    seen = []
    while True:
        message = json.loads(socket.recv(timeout=20))
        seen.append(message)
        if message["type"] in types:
            return seen


def sse_types(base: str, text: str) -> list[str]:
    with httpx.stream(
        "POST", f"{base}/stream", json={"input": text}, headers=ADA, timeout=20
    ) as answer:
        return [line[7:] for line in answer.iter_lines() if line.startswith("event: ")]


def test_the_hosts_auth_guards_the_handshake(base: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        ws(base, headers=None)
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        ws(base, headers={"X-API-Key": "wrong"})


def test_the_same_events_as_sse(base: str) -> None:
    with ws(base) as socket:
        socket.send(json.dumps({"type": "run", "input": "weather?", "session_id": "ws-ada-1"}))
        events = until(socket, "run_finished", "error")
    types = [e["type"] for e in events]
    assert types == sse_types(base, "weather?")
    assert types[:5] == [
        "run_started",
        "tool_call_started",
        "tool_progress",
        "tool_progress",
        "tool_call_finished",
    ]
    assert events[-1]["output"] == "Tool said: sunny in Oslo"
    assert events[0]["session_id"] == "ws-ada-1"
    # the run belongs to the handshake's identity: bob cannot read it, ada can
    assert (
        httpx.get(f"{base}/sessions/ws-ada-1", headers={"X-API-Key": "key-bob"}).status_code == 404
    )
    assert httpx.get(f"{base}/sessions/ws-ada-1", headers=ADA).status_code == 200


def test_cancel_stops_the_run_and_the_connection_goes_on(base: str) -> None:
    HANG_CANCELLED.clear()
    with ws(base) as socket:
        socket.send(json.dumps({"type": "run", "input": "hang"}))
        until(socket, "tool_call_started")
        socket.send(json.dumps({"type": "run", "input": "again"}))
        busy = until(socket, "error")[-1]
        assert (busy["error"]["type"], busy["error"]["status"]) == ("busy", 409)
        socket.send(json.dumps({"type": "cancel"}))
        assert until(socket, "cancelled")[-1]["run_id"]
        assert HANG_CANCELLED.wait(10)  # the tool was cancelled, not left running
        socket.send(json.dumps({"type": "run", "input": "tell me"}))
        assert until(socket, "run_finished")[-1]["output"] == SLOW_ANSWER


def test_a_dropped_client_cancels_its_run(base: str) -> None:
    HANG_CANCELLED.clear()
    with ws(base) as socket:
        socket.send(json.dumps({"type": "run", "input": "hang"}))
        until(socket, "tool_call_started")
    assert HANG_CANCELLED.wait(15)  # the socket closed with the run going: it was stopped


@pytest.mark.parametrize(
    ("message", "kind", "text"),
    [
        ("not json", "invalid_request", "JSON objects"),
        ('{"type": "dance"}', "invalid_request", "run, cancel or approve"),
        ('{"type": "run", "input": 5}', "invalid_request", "input"),
        ('{"type": "run", "input": "x", "session_id": "../etc"}', "invalid_request", "session_id"),
        (
            '{"type": "approve", "approval_id": "apr_1", "approve": "yes"}',
            "invalid_request",
            "approve",
        ),
    ],
)
def test_bad_messages_are_answered_not_fatal(base: str, message: str, kind: str, text: str) -> None:
    with ws(base) as socket:
        socket.send(message)
        error = until(socket, "error")[-1]["error"]
        assert error["type"] == kind
        assert text in error["message"]
        socket.send(json.dumps({"type": "run", "input": "weather?"}))
        assert until(socket, "run_finished")[-1]["output"] == "Tool said: sunny in Oslo"


class StuckClient:
    """Sends one run, then neither reads nor writes: its sends never complete."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: int | None = None
        self.first = True

    async def receive_text(self) -> str:
        if self.first:
            self.first = False
            return json.dumps({"type": "run", "input": "tell me", "session_id": "stuck-1"})
        await asyncio.Event().wait()
        raise Disconnected

    async def send_text(self, text: str) -> None:
        self.sent.append(text)
        await asyncio.Event().wait()  # the client's buffer is full: this never returns

    async def close(self, code: int = 1000) -> None:
        self.closed_with = code


async def test_a_client_that_stops_reading_is_bounded_then_dropped() -> None:
    agent = build_agent()
    client = StuckClient()
    async with asyncio.timeout(20):
        await serve_connection(
            client, agent, Caller(identity="ada"), ServingOptions(), queue_size=2, send_timeout=0.5
        )
    assert client.closed_with == 1008
    assert len(client.sent) == 1  # one message in flight, two queued, then the run was held
    stored = agent.memory.store.load("stuck-1")
    assert stored is None or not any(m.role == "assistant" for m in stored.messages)


def test_approve_over_the_socket(base: str) -> None:
    from tests.browser.apps import REFUNDS, refund_tool

    if refund_tool is None:
        pytest.skip("this selectools has no approvals (Tool.requires_approval)")
    REFUNDS.clear()
    with ws(base) as socket:
        socket.send(json.dumps({"type": "run", "input": "refund order 1001"}))
        paused = until(socket, "approval_required", "run_finished")
        if paused[-1]["type"] != "approval_required":
            pytest.skip("this selectools does not pause for approval")
        approval_id = paused[-1]["approval_id"]
        until(socket, "run_finished")
        assert REFUNDS == []
        decision = {"type": "approve", "approval_id": approval_id, "approve": True}
        socket.send(json.dumps(decision))
        done = until(socket, "run_finished", "error")
        assert done[-1]["output"] == "Tool said: refunded 1001"
        assert REFUNDS == [1001]
        socket.send(json.dumps(decision))  # decided already: answered, never run twice
        again = until(socket, "error")[-1]["error"]
        assert again["status"] == 409
        assert REFUNDS == [1001]
