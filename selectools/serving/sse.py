"""Server-Sent Events: framing, headers, and keep-alives while a run is busy.

A run is pumped by its own task into a queue, so a client that goes away
can either cancel it ("stop") or leave it to finish ("finish"), and silence
longer than `keepalive_seconds` becomes a `: keep-alive` comment that keeps
proxies from closing the connection. The first event is taken inline,
before the pump starts, so it reaches the client as soon as a bare
generator's would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from pydantic import BaseModel

from ..unicode import dumps_json
from .options import ServingOptions

__all__ = ["DONE", "MEDIA_TYPE", "SSE_HEADERS", "comment", "data_frame", "frame", "with_keepalive"]

MEDIA_TYPE = "text/event-stream"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DONE = "data: [DONE]\n\n"  # the end of an OpenAI-compatible stream

T = TypeVar("T")


def json_of(model: BaseModel) -> bytes:
    """The model as JSON; text that cannot be encoded (a lone surrogate) is escaped,
    never a failed answer."""
    try:
        return model.model_dump_json().encode()
    except ValueError:  # pydantic's serialization error: "surrogates not allowed"
        return dumps_json(model.model_dump(mode="json"))


def frame(event: BaseModel) -> str:
    """One named event; the name is the model's `type`."""
    return f"event: {getattr(event, 'type', 'message')}\ndata: {json_of(event).decode()}\n\n"


def data_frame(payload: BaseModel) -> str:
    """One unnamed `data:` line, as OpenAI streams send them."""
    return f"data: {json_of(payload).decode()}\n\n"


def comment(text: str = "keep-alive") -> str:
    return f": {text}\n\n"


_background: set[asyncio.Task[Any]] = set()  # runs finishing after their client left


async def with_keepalive(
    events: AsyncIterator[T], options: ServingOptions
) -> AsyncIterator[T | None]:
    """Yield `events`, or None after `keepalive_seconds` of silence.

    Closing this generator early (the client left) stops the run or lets it
    finish in the background, as `options.on_disconnect` says.
    """
    producer: asyncio.Task[None] | None = None
    finished = False
    try:
        try:
            first = await anext(events)
        except (StopAsyncIteration, Exception) as exc:
            finished = True  # the run is over: nothing to stop or leave running
            if isinstance(exc, StopAsyncIteration):
                return
            raise
        yield first
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        producer = asyncio.create_task(_pump(events, queue))
        while True:
            try:
                async with asyncio.timeout(options.keepalive_seconds):
                    kind, value = await queue.get()
            except TimeoutError:
                yield None
                continue
            if kind == "end":
                finished = True
                return
            if kind == "error":
                finished = True
                raise value
            yield value
    finally:
        if not finished:
            await _abandon(events, producer, options)


async def _pump(events: AsyncIterator[Any], queue: asyncio.Queue[tuple[str, Any]]) -> None:
    try:
        async for event in events:
            await queue.put(("event", event))
    except Exception as exc:
        await queue.put(("error", exc))
    else:
        await queue.put(("end", None))


async def _drain(events: AsyncIterator[Any]) -> None:
    async for _ in events:
        pass


async def _abandon(
    events: AsyncIterator[Any], producer: asyncio.Task[None] | None, options: ServingOptions
) -> None:
    if options.on_disconnect == "finish":
        task = producer or asyncio.create_task(_drain(events))
        _background.add(task)
        task.add_done_callback(_background.discard)
        return
    if producer is not None:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await producer
    else:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
