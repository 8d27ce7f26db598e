"""Framework-neutral request handling shared by the FastAPI and Flask adapters.

Adapters turn HTTP into these calls and the returned bodies or SSE frames
back into HTTP; every rule about limits, sessions, ownership, disconnects and
error shapes lives here once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import protocol
from .agent import Agent
from .errors import SelectoolsError, SessionNotFoundError
from .events import RunFinished, TextDelta
from .results import AgentResult

__all__ = ["RequestTooLargeError", "RunRequest", "ServingOptions"]

logger = logging.getLogger("selectools.serving")


class RequestTooLargeError(SelectoolsError):
    """The body or the input is over the configured limit (HTTP 413)."""


@dataclass(frozen=True, slots=True)
class ServingOptions:
    """Limits and behaviour of a mounted agent; both adapters take the same options.

    Attributes:
        max_body_bytes: larger request bodies get 413.
        max_input_chars: longer inputs (prompt or message contents) get 413.
        max_batch: most inputs one `/batch` call may carry (more gets 413).
        batch_concurrency: how many batch inputs run at once.
        keepalive_seconds: idle time before an SSE keep-alive comment.
        on_disconnect: "stop" cancels a run whose streaming client left; "finish"
            lets it complete in the background (its session is still saved).
        model_name: the id `/v1/models` reports and OpenAI clients send.
    """

    max_body_bytes: int = 1_000_000
    max_input_chars: int = 100_000
    max_batch: int = 16
    batch_concurrency: int = 4
    keepalive_seconds: float = 15.0
    on_disconnect: Literal["stop", "finish"] = "stop"
    model_name: str = "selectools-agent"


@dataclass(frozen=True, slots=True)
class RunRequest:
    """Who is asking and with what facts, resolved by the adapter from the host app."""

    identity: str | None = None
    metadata: Mapping[str, Any] | None = None


def check_body_size(size: int | None, options: ServingOptions) -> None:
    if size is not None and size > options.max_body_bytes:
        raise RequestTooLargeError(
            f"The request body is {size} bytes; the limit is {options.max_body_bytes}. "
            f"Send a shorter input."
        )


def _check_input(chars: int, options: ServingOptions) -> None:
    if chars > options.max_input_chars:
        raise RequestTooLargeError(
            f"The input is {chars} characters; the limit is {options.max_input_chars}. "
            f"Shorten it or split it over several requests in one session."
        )


def run_kwargs(
    agent: Agent, body: protocol.InvokeRequest, who: RunRequest, options: ServingOptions
) -> dict[str, Any]:
    _check_input(body.input_chars(), options)
    overrides = body.config.overrides(agent.config.max_iterations) if body.config else None
    return {
        "session_id": body.session_id,
        "identity": who.identity,
        "metadata": who.metadata,
        "config": overrides,
    }


async def invoke(
    agent: Agent, body: protocol.InvokeRequest, who: RunRequest, options: ServingOptions
) -> dict[str, Any]:
    kwargs = run_kwargs(agent, body, who, options)
    result = await agent.arun(body.run_input(), **kwargs)
    return protocol.InvokeResponse.of(result).model_dump()


async def batch(
    agent: Agent, body: protocol.BatchRequest, who: RunRequest, options: ServingOptions
) -> dict[str, Any]:
    if len(body.inputs) > options.max_batch:
        raise RequestTooLargeError(
            f"The batch has {len(body.inputs)} inputs; the limit is {options.max_batch}. "
            f"Split it into several calls."
        )
    gate = asyncio.Semaphore(options.batch_concurrency)

    async def one(index: int, item: protocol.InvokeRequest) -> dict[str, Any]:
        async with gate:
            try:
                result = await invoke(agent, item, who, options)
            except Exception as exc:  # one bad input must not fail the others
                status, error, _ = protocol.error_response(exc)
                log_unexpected(exc)
                return {"index": index, "status": status, "error": error["error"]}
            return {"index": index, "status": 200, "result": result}

    results = await asyncio.gather(*(one(i, item) for i, item in enumerate(body.inputs)))
    return {"results": list(results)}


def tools(agent: Agent) -> dict[str, Any]:
    return {
        "tools": [
            {"name": t.name, "description": t.description, "parameters": dict(t.parameters)}
            for t in agent.tools.values()
        ]
    }


async def get_session(agent: Agent, session_id: str, who: RunRequest) -> dict[str, Any]:
    stored = await agent.memory.store.aload(session_id)
    if stored is None or (stored.owner is not None and stored.owner != who.identity):
        raise SessionNotFoundError(f"No session '{session_id}' for this caller.")
    return {"session_id": session_id, "messages": [m.to_dict() for m in stored.messages]}


async def delete_session(agent: Agent, session_id: str, who: RunRequest) -> None:
    await get_session(agent, session_id, who)  # the same ownership rule as reading
    await agent.memory.store.adelete(session_id)


async def stream(
    agent: Agent, body: protocol.InvokeRequest, who: RunRequest, options: ServingOptions
) -> AsyncIterator[str]:
    """SSE frames for one run; validation errors raise before the first frame."""
    kwargs = run_kwargs(agent, body, who, options)
    events = agent.astream(body.run_input(), **kwargs)
    return _frames(events, options)


async def _frames(events: AsyncIterator[Any], options: ServingOptions) -> AsyncIterator[str]:
    run_id = ""
    try:
        async for item in _with_keepalive(events, options):
            if item is None:
                yield protocol.sse_comment()
                continue
            run_id = getattr(item, "run_id", run_id)
            yield protocol.sse_frame(item.to_dict())
    except Exception as exc:
        log_unexpected(exc)
        yield protocol.sse_error(exc, run_id)


async def chat_completions(
    agent: Agent, body: protocol.ChatCompletionRequest, who: RunRequest, options: ServingOptions
) -> dict[str, Any]:
    _check_input(body.input_chars(), options)
    result = await agent.arun(
        body.run_input(), identity=who.identity, metadata=who.metadata, config=body.overrides()
    )
    return protocol.chat_completion(result, options.model_name)


async def chat_completions_stream(
    agent: Agent, body: protocol.ChatCompletionRequest, who: RunRequest, options: ServingOptions
) -> AsyncIterator[str]:
    _check_input(body.input_chars(), options)
    events = agent.astream(
        body.run_input(), identity=who.identity, metadata=who.metadata, config=body.overrides()
    )
    include_usage = bool((body.stream_options or {}).get("include_usage"))
    return _openai_frames(events, options, include_usage)


async def _openai_frames(
    events: AsyncIterator[Any], options: ServingOptions, include_usage: bool
) -> AsyncIterator[str]:
    name = options.model_name
    run_id = ""
    result: AgentResult | None = None
    try:
        async for item in _with_keepalive(events, options):
            if item is None:
                yield protocol.sse_comment()
            elif not run_id:
                run_id = item.run_id
                yield protocol.chat_completion_chunk(run_id, name, role=True, content="")
            if isinstance(item, TextDelta):
                yield protocol.chat_completion_chunk(run_id, name, content=item.text)
            elif isinstance(item, RunFinished):
                result = item.result
    except Exception as exc:
        log_unexpected(exc)
        yield f"data: {json.dumps(protocol.error_response(exc)[1])}\n\n"
        return
    yield protocol.chat_completion_chunk(run_id, name, finish=True)
    if include_usage and result is not None:
        yield protocol.chat_completion_chunk(run_id, name, result=result)
    yield protocol.OPENAI_DONE


_background: set[asyncio.Task[Any]] = set()  # runs finishing after their client left


async def _with_keepalive(
    events: AsyncIterator[Any], options: ServingOptions
) -> AsyncIterator[Any]:
    """Yield events, or None after `keepalive_seconds` of silence (tools still running).

    The run is pumped by its own task into a queue, so a client that goes away
    can either cancel it ("stop") or leave it to finish ("finish").
    """
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(("event", event))
        except BaseException as exc:
            await queue.put(("error", exc))
            if not isinstance(exc, Exception):
                raise
        else:
            await queue.put(("end", None))

    producer = asyncio.create_task(pump())
    finished = False
    try:
        while True:
            try:
                kind, value = await asyncio.wait_for(queue.get(), options.keepalive_seconds)
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
        if not finished and not producer.done():
            if options.on_disconnect == "stop":
                producer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await producer
            else:
                _background.add(producer)
                producer.add_done_callback(_background.discard)


def log_unexpected(exc: BaseException) -> None:
    if not isinstance(exc, SelectoolsError):
        logger.exception("agent run failed", exc_info=exc)
