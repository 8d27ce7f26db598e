"""One WebSocket conversation: start runs, cancel them and decide approvals on one connection.

The same events as the SSE `/stream` route, as JSON text messages (each is
the `data` of the SSE frame, with its `type`), produced by the same handler,
so limits, quotas, fallbacks and error events behave alike. Client messages:

    {"type": "run", "input": "...", "session_id": "...", "config": {...}}
    {"type": "cancel"}
    {"type": "approve", "approval_id": "apr_...", "approve": true, "reason": "..."}

One run at a time per connection (a second `run` while one is going is an
`error` message with type `busy`). Server messages beyond the run events:
`{"type": "cancelled", "run_id"}` and `{"type": "error", "error": {...}}` for
a bad client message. Sends go through a bounded queue: a client that stops
reading holds its run back (backpressure), and one that reads nothing for
`send_timeout` seconds is disconnected. A client that leaves stops its run.
Adapters supply a `Connection` (receive text, send text, close).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from ..agent import Agent
from ..unicode import decodes_to_lone_surrogate
from . import handlers
from .body import BodyBudget
from .errors import InvalidRequestError, RequestTooLargeError
from .handlers import Answer
from .options import Caller, ServingOptions
from .wire import ErrorDetail, InvokeRequest

__all__ = ["QUEUE_SIZE", "SEND_TIMEOUT", "Connection", "Disconnected", "serve_connection"]

QUEUE_SIZE = 64  # messages waiting for a slow client before its run is held back
SEND_TIMEOUT = 30.0  # seconds a client may read nothing while messages wait


class Disconnected(Exception):
    """The client went away."""


class Connection(Protocol):
    async def receive_text(self) -> str:
        """The next message; raises `Disconnected` when the client left."""
        ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int = 1000) -> None: ...


class _Cancel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str


class _Approve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    approval_id: str = Field(min_length=1, max_length=128)
    approve: StrictBool
    reason: str | None = Field(default=None, max_length=2000)


def _error(kind: str, message: str, status: int = 400) -> str:
    detail = ErrorDetail(type=kind, message=message, status=status)
    return json.dumps({"type": "error", "error": detail.model_dump()})


def _sse_data(frame: str) -> str | None:
    """The JSON of one SSE frame (None for keep-alive comments)."""
    data = [line[6:] for line in frame.split("\n") if line.startswith("data: ")]
    return "".join(data) if data else None


async def serve_connection(
    connection: Connection,
    agent: Agent,
    caller: Caller,
    options: ServingOptions,
    *,
    approvals: Callable[..., Awaitable[Any]] | None = None,
    queue_size: int = QUEUE_SIZE,
    send_timeout: float = SEND_TIMEOUT,
) -> None:
    """Serve one connection until the client leaves; every run it started is stopped then.

    `approvals(agent, approval_id, body, caller, options)` streams a decided
    run (the approval route's handler), when this selectools has approvals.
    """
    outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=queue_size)
    options = dataclasses.replace(options, on_disconnect="stop")
    run: asyncio.Task[None] | None = None
    slow = asyncio.Event()

    async def post(text: str) -> bool:
        """Queue a message; False (and the client is dropped) if it read nothing in time."""
        try:
            async with asyncio.timeout(send_timeout):
                await outbox.put(text)
        except TimeoutError:
            slow.set()
            return False
        return True

    async def sender() -> None:
        while True:
            await connection.send_text(await outbox.get())

    async def play(answer: handlers.Stream | Answer) -> None:
        if isinstance(answer, Answer):
            body = json.loads(answer.body)
            await post(
                json.dumps({"type": "error", "error": {**body["error"], "status": answer.status}})
            )
            return
        frames = answer.frames
        run_id = ""
        try:
            async for frame in frames:
                data = _sse_data(frame)
                if data is not None:
                    run_id = run_id or json.loads(data).get("run_id", "")
                    if not await post(data):
                        raise asyncio.CancelledError
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await frames.aclose()  # type: ignore[attr-defined]
            if not slow.is_set():
                with contextlib.suppress(asyncio.QueueFull):
                    outbox.put_nowait(json.dumps({"type": "cancelled", "run_id": run_id}))
            raise

    async def start(begin: Callable[[], Awaitable[handlers.Stream | Answer]]) -> None:
        nonlocal run
        if run is not None and not run.done():
            await post(_error("busy", "A run is going on this connection; cancel it first.", 409))
            return
        answer = await begin()
        run = asyncio.create_task(play(answer))

    async def handle(text: str) -> None:
        try:  # a frame is a request body: the same limit (text is at most 4 bytes a char)
            if len(text) * 4 > options.max_body_bytes:
                BodyBudget(options.max_body_bytes).add(text.encode("utf-8", "surrogatepass"))
        except RequestTooLargeError as exc:
            await post(_error(exc.error_type, str(exc), exc.http_status))
            return
        try:
            message = pydantic_core.from_json(text)
        except ValueError:
            await post(_error("invalid_request", _not_json(text), 422))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        try:
            if kind == "run":
                fields = {k: v for k, v in message.items() if k != "type"}
                request = InvokeRequest.model_validate(fields)
                await start(lambda: handlers.stream(agent, request, caller, options))
            elif kind == "cancel":
                _Cancel.model_validate(message)
                if run is not None and not run.done():
                    run.cancel()
            elif kind == "approve":
                decision = _Approve.model_validate(message)
                decide = approvals or _approval_route()
                if decide is None:
                    await post(_error("not_supported", "This server has no approvals.", 404))
                    return
                choice = {"approve": decision.approve, "reason": decision.reason}
                await start(lambda: decide(agent, decision.approval_id, choice, caller, options))
            else:
                await post(
                    _error("invalid_request", "Send a message of type run, cancel or approve.", 422)
                )
        except ValidationError as exc:
            error = InvalidRequestError.from_errors(exc.errors(include_url=False))
            await post(_error("invalid_request", str(error), 422))

    send_task = asyncio.create_task(sender())
    try:
        while True:
            receive = asyncio.ensure_future(connection.receive_text())
            dropped = asyncio.ensure_future(slow.wait())
            done, _ = await asyncio.wait(
                {receive, dropped, send_task}, return_when=asyncio.FIRST_COMPLETED
            )
            if receive not in done:
                receive.cancel()
                dropped.cancel()
                if slow.is_set():
                    with contextlib.suppress(Exception):
                        await connection.close(1008)
                break
            dropped.cancel()
            try:
                text = receive.result()
            except Disconnected:
                break
            await handle(text)
    finally:
        if run is not None and not run.done():
            run.cancel()
            with contextlib.suppress(BaseException):
                await run
        send_task.cancel()
        with contextlib.suppress(BaseException):
            await send_task


def _not_json(text: str) -> str:
    """What is wrong with a frame that does not parse, in words a client can act on."""
    if decodes_to_lone_surrogate(text):
        return (
            "Messages are JSON objects, and this one holds a lone UTF-16 surrogate escape "
            "(like \\ud800 without its pair): send the character itself or a complete pair."
        )
    return "Messages are JSON objects; this one is not valid JSON."


def _approval_route() -> Callable[..., Awaitable[Any]] | None:
    """The approval route's streaming handler, when this selectools has approvals."""
    try:
        from . import approvals  # type: ignore[attr-defined, unused-ignore]
        from .wire import DecisionRequest  # type: ignore[attr-defined, unused-ignore]
    except ImportError:
        return None

    async def decide(
        agent: Agent, approval_id: str, choice: dict[str, Any], caller: Caller, options: Any
    ) -> Any:
        body = DecisionRequest(**choice)
        return await approvals.decide_stream(agent, approval_id, body, caller, options)

    return decide
