"""What each route does, once, for every adapter: parsed wire model in, `Answer` or `Stream` out.

Handlers never raise for a request they can answer: limits, unknown
sessions and run failures come back as an `Answer` with the status and the
documented error body. Async handlers serve ASGI adapters; the `*_sync`
ones serve WSGI views (Flask) without an event loop where none is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from pydantic import BaseModel

from ..agent import Agent
from ..errors import SessionNotFoundError
from ..events import Event, RunFailed, RunFinished, TextDelta
from ..results import AgentResult
from ..sessions.base import StoredSession
from . import sse
from .errors import InvalidRequestError, RequestTooLargeError, error_answer, log_unexpected
from .options import Caller, ServingOptions
from .wire import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ErrorDetail,
    ErrorEvent,
    InvokeRequest,
    InvokeResponse,
    ModelList,
    SessionResponse,
    ToolInfo,
    ToolsResponse,
    event_out,
    session_id_adapter,
)

__all__ = [
    "Answer",
    "Stream",
    "batch",
    "batch_sync",
    "chat_completions",
    "chat_completions_sync",
    "check_session_id",
    "delete_session",
    "delete_session_sync",
    "invoke",
    "invoke_sync",
    "models",
    "read_session",
    "read_session_sync",
    "stream",
    "tools",
]


@dataclass(frozen=True, slots=True)
class Answer:
    """A complete JSON answer: status, body bytes (empty for 204) and extra headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, model: BaseModel, status: int = 200) -> Answer:
        return cls(status, model.model_dump_json().encode())

    @classmethod
    def failure(cls, exc: BaseException) -> Answer:
        status, body, headers = error_answer(exc)
        return cls(status, pydantic_core.to_json(body), headers)


@dataclass(frozen=True, slots=True)
class Stream:
    """A Server-Sent Events answer: frames as text, always status 200."""

    frames: AsyncIterator[str]
    headers: Mapping[str, str] = field(default_factory=lambda: dict(sse.SSE_HEADERS))
    media_type: str = sse.MEDIA_TYPE


# -- checks shared by every route ----------------------------------------------------


def _check_input(chars: int, options: ServingOptions) -> None:
    if chars > options.max_input_chars:
        raise RequestTooLargeError(
            f"The input is {chars} characters; the limit is {options.max_input_chars}. "
            f"Shorten it or split it over several requests in one session."
        )


def check_session_id(session_id: str) -> str:
    """A path's session id in the documented shape, or a 422 naming the path parameter."""
    try:
        return session_id_adapter.validate_python(session_id)
    except pydantic_core.ValidationError as exc:
        raise InvalidRequestError.from_errors(
            exc.errors(include_url=False), prefix=("path", "session_id")
        ) from None


def _run_kwargs(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> dict[str, Any]:
    _check_input(body.input_chars(), options)
    overrides = body.config.overrides(agent.config.max_iterations) if body.config else None
    return {
        "session_id": body.session_id,
        "identity": caller.identity,
        "metadata": caller.metadata,
        "config": overrides,
    }


# -- invoke and batch ----------------------------------------------------------------


async def invoke(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> Answer:
    """`POST /invoke`: run to the final answer."""
    try:
        kwargs = _run_kwargs(agent, body, caller, options)
        result = await agent.arun(body.run_input(), **kwargs)
    except Exception as exc:  # the run's failure is the answer
        return Answer.failure(exc)
    return Answer.of(InvokeResponse.of(result))


def invoke_sync(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> Answer:
    """`invoke` for WSGI views: `agent.run`, which honours the run timeout too."""
    try:
        kwargs = _run_kwargs(agent, body, caller, options)
        result = agent.run(body.run_input(), **kwargs)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(InvokeResponse.of(result))


async def batch(
    agent: Agent, body: BatchRequest, caller: Caller, options: ServingOptions
) -> Answer:
    """`POST /batch`: independent runs, at most `batch_concurrency` at once, answered in order."""
    if len(body.inputs) > options.max_batch:
        return Answer.failure(
            RequestTooLargeError(
                f"The batch has {len(body.inputs)} inputs; the limit is {options.max_batch}. "
                f"Split it into several calls."
            )
        )
    gate = asyncio.Semaphore(options.batch_concurrency)

    async def one(index: int, item: InvokeRequest) -> BatchItem:
        async with gate:
            try:
                kwargs = _run_kwargs(agent, item, caller, options)
                result = await agent.arun(item.run_input(), **kwargs)
            except Exception as exc:  # one bad input must not fail the others
                status, error, _ = error_answer(exc)
                return BatchItem(index=index, status=status, error=ErrorDetail(**error["error"]))
            return BatchItem(index=index, status=200, result=InvokeResponse.of(result))

    results = await asyncio.gather(*(one(i, item) for i, item in enumerate(body.inputs)))
    return Answer.of(BatchResponse(results=list(results)))


def batch_sync(agent: Agent, body: BatchRequest, caller: Caller, options: ServingOptions) -> Answer:
    from ..bridge import run_coroutine_sync

    return run_coroutine_sync(batch(agent, body, caller, options))


# -- streams -------------------------------------------------------------------------


def stream(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> Stream | Answer:
    """`POST /stream`: the run's events as SSE; bad input is answered before the first frame."""
    try:
        kwargs = _run_kwargs(agent, body, caller, options)
        events = agent.astream(body.run_input(), **kwargs)
    except Exception as exc:
        return Answer.failure(exc)
    return Stream(_event_frames(events, options))


async def _event_frames(
    events: AsyncIterator[Event], options: ServingOptions
) -> AsyncIterator[str]:
    run_id = ""
    try:
        async for item in sse.with_keepalive(events, options):
            if item is None:
                yield sse.comment()
                continue
            run_id = item.run_id
            yield sse.frame(event_out(item))
    except Exception as exc:  # the stream has started: the failure is its last event
        log_unexpected(exc)
        yield sse.frame(ErrorEvent.of(RunFailed.from_exception(run_id, exc)))


# -- OpenAI-compatible ---------------------------------------------------------------


async def chat_completions(
    agent: Agent, body: ChatCompletionRequest, caller: Caller, options: ServingOptions
) -> Answer | Stream:
    """`POST /v1/chat/completions`, plain or `stream: true`."""
    if body.stream:
        return _chat_stream(agent, body, caller, options)
    try:
        _check_input(body.input_chars(), options)
        result = await agent.arun(
            body.run_input(),
            identity=caller.identity,
            metadata=caller.metadata,
            config=body.overrides(),
        )
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(ChatCompletion.of(result, options.model_name))


def chat_completions_sync(
    agent: Agent, body: ChatCompletionRequest, caller: Caller, options: ServingOptions
) -> Answer | Stream:
    if body.stream:
        return _chat_stream(agent, body, caller, options)
    try:
        _check_input(body.input_chars(), options)
        result = agent.run(
            body.run_input(),
            identity=caller.identity,
            metadata=caller.metadata,
            config=body.overrides(),
        )
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(ChatCompletion.of(result, options.model_name))


def _chat_stream(
    agent: Agent, body: ChatCompletionRequest, caller: Caller, options: ServingOptions
) -> Stream | Answer:
    try:
        _check_input(body.input_chars(), options)
        events = agent.astream(
            body.run_input(),
            identity=caller.identity,
            metadata=caller.metadata,
            config=body.overrides(),
        )
    except Exception as exc:
        return Answer.failure(exc)
    return Stream(_openai_frames(events, options, body.include_usage()))


async def _openai_frames(
    events: AsyncIterator[Event], options: ServingOptions, include_usage: bool
) -> AsyncIterator[str]:
    name = options.model_name
    run_id = ""
    result: AgentResult | None = None
    try:
        async for item in sse.with_keepalive(events, options):
            if item is None:
                yield sse.comment()
                continue
            if not run_id:
                run_id = item.run_id
                yield sse.data_frame(ChatCompletionChunk.of(run_id, name, role=True, content=""))
            if isinstance(item, TextDelta):
                yield sse.data_frame(ChatCompletionChunk.of(run_id, name, content=item.text))
            elif isinstance(item, RunFinished):
                result = item.result
    except Exception as exc:
        _, body, _ = error_answer(exc)
        yield f"data: {pydantic_core.to_json(body).decode()}\n\n"
        return
    yield sse.data_frame(ChatCompletionChunk.of(run_id, name, finish=True))
    if include_usage and result is not None:
        yield sse.data_frame(ChatCompletionChunk.usage_of(run_id, name, result))
    yield sse.DONE


def models(options: ServingOptions) -> Answer:
    """`GET /v1/models`: the agent, under `options.model_name`."""
    return Answer.of(ModelList.of(options.model_name))


# -- tools and sessions --------------------------------------------------------------


def tools(agent: Agent) -> Answer:
    """`GET /tools`: names, descriptions and JSON Schemas."""
    listed = [
        ToolInfo(name=t.name, description=t.description, parameters=dict(t.parameters))
        for t in agent.tools.values()
    ]
    return Answer.of(ToolsResponse(tools=listed))


def _visible(stored: StoredSession | None, session_id: str, caller: Caller) -> StoredSession:
    if stored is None or (stored.owner is not None and stored.owner != caller.identity):
        raise SessionNotFoundError(f"No session '{session_id}' for this caller.")
    return stored


def _session_answer(stored: StoredSession) -> Answer:
    messages = [m.to_dict() for m in stored.messages]
    return Answer.of(SessionResponse(session_id=stored.id, messages=messages))


async def read_session(agent: Agent, session_id: str, caller: Caller) -> Answer:
    """`GET /sessions/{id}`: a stored conversation, for its owner only (404 for others)."""
    try:
        session_id = check_session_id(session_id)
        stored = _visible(await agent.memory.store.aload(session_id), session_id, caller)
    except Exception as exc:
        return Answer.failure(exc)
    return _session_answer(stored)


def read_session_sync(agent: Agent, session_id: str, caller: Caller) -> Answer:
    try:
        session_id = check_session_id(session_id)
        stored = _visible(agent.memory.store.load(session_id), session_id, caller)
    except Exception as exc:
        return Answer.failure(exc)
    return _session_answer(stored)


async def delete_session(agent: Agent, session_id: str, caller: Caller) -> Answer:
    """`DELETE /sessions/{id}`: forget a conversation (same ownership rule as reading)."""
    try:
        session_id = check_session_id(session_id)
        store = agent.memory.store
        _visible(await store.aload(session_id), session_id, caller)
        await store.adelete(session_id)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer(204, b"")


def delete_session_sync(agent: Agent, session_id: str, caller: Caller) -> Answer:
    try:
        session_id = check_session_id(session_id)
        store = agent.memory.store
        _visible(store.load(session_id), session_id, caller)
        store.delete(session_id)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer(204, b"")
