"""What each route does, once, for every adapter: parsed wire model in, `Answer` or `Stream` out.

Handlers never raise for a request they can answer: limits, unknown
sessions and run failures come back as an `Answer` with the status and the
documented error body. Async handlers serve ASGI adapters; the `*_sync`
ones serve WSGI views (Flask) without an event loop where none is needed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import field
from typing import Any

import pydantic_core
from pydantic import BaseModel

from ..agent import Agent
from ..approval.flow import may_pause
from ..errors import SessionNotFoundError
from ..events import Event, RunFailed, RunFinished, RunStarted, TextDelta
from ..frozen import record
from ..messages import RunInput
from ..results import AgentResult
from ..sessions.base import StoredSession
from . import sse
from .admission import admission_for, used_by, used_so_far
from .degrade import fallback_or_raise, fallback_result
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
    "admitted",
    "admitted_sync",
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
    "stream_sync",
    "tools",
]


@record
class Answer:
    """A complete JSON answer: status, body bytes (empty for 204) and extra headers."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, model: BaseModel, status: int = 200) -> Answer:
        return cls(status, sse.json_of(model))

    @classmethod
    def failure(cls, exc: BaseException) -> Answer:
        status, body, headers = error_answer(exc)
        return cls(status, pydantic_core.to_json(body), headers)


@record
class Stream:
    """A Server-Sent Events answer: frames as text, always status 200."""

    frames: AsyncIterator[str]
    headers: Mapping[str, str] = field(default_factory=lambda: dict(sse.SSE_HEADERS))
    media_type: str = sse.MEDIA_TYPE


# -- checks shared by every route ----------------------------------------------------


def _check_input_size(chars: int, options: ServingOptions) -> None:
    if chars > options.max_input_chars:
        raise RequestTooLargeError(
            f"The input is {chars} characters; the limit is {options.max_input_chars}. "
            f"Shorten it or split it over several requests in one session."
        )


def _check_guardrails(agent: Agent, run_input: RunInput) -> None:
    """Refuse now what the agent's guardrails would refuse (a 422 rather than an error
    event mid-stream); guardrails load only for an agent that has policies."""
    if agent.policies:
        from ..guardrails.policy import check_input

        check_input(agent.policies, run_input)


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
    _check_input_size(body.input_chars(), options)
    overrides = body.config.overrides(agent.config.max_iterations) if body.config else None
    return {
        "session_id": body.session_id,
        "identity": caller.identity,
        "metadata": caller.metadata,
        "config": overrides,
        "output_type": body.output_schema,
    }


# -- one run behind the caller's quota, degraded when the providers are down ----------


async def admitted(
    work: Callable[[], Awaitable[AgentResult[Any]]],
    caller: Caller,
    options: ServingOptions,
    session_id: str | None,
) -> AgentResult[Any]:
    """One run (`work`) against the caller's quota, answered with the configured fallback
    answer when the providers are down; `/invoke`, `/batch`, the OpenAI route, approvals."""
    admission = admission_for(options)
    await admission.before_run(caller)
    try:
        result = await work()
    except Exception as exc:
        await admission.after_run(caller, used_by(exc))
        return fallback_or_raise(exc, options, session_id)
    await admission.after_run(caller, result.usage)
    return result


def admitted_sync(
    work: Callable[[], AgentResult[Any]],
    caller: Caller,
    options: ServingOptions,
    session_id: str | None,
) -> AgentResult[Any]:
    """`admitted` for WSGI views: `work` runs in this thread."""
    admission = admission_for(options)
    admission.before_run_sync(caller)
    try:
        result = work()
    except Exception as exc:
        admission.after_run_sync(caller, used_by(exc))
        return fallback_or_raise(exc, options, session_id)
    admission.after_run_sync(caller, result.usage)
    return result


async def _run(
    agent: Agent,
    run_input: RunInput,
    kwargs: dict[str, Any],
    caller: Caller,
    options: ServingOptions,
) -> AgentResult:
    session_id = kwargs.get("session_id")
    return await admitted(lambda: agent.arun(run_input, **kwargs), caller, options, session_id)


def _run_sync(
    agent: Agent,
    run_input: RunInput,
    kwargs: dict[str, Any],
    caller: Caller,
    options: ServingOptions,
) -> AgentResult:
    session_id = kwargs.get("session_id")
    return admitted_sync(lambda: agent.run(run_input, **kwargs), caller, options, session_id)


# -- invoke and batch ----------------------------------------------------------------


async def invoke(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> Answer:
    """`POST /invoke`: run to the final answer."""
    try:
        kwargs = _run_kwargs(agent, body, caller, options)
        await admission_for(options).arrive(caller)
        result = await _run(agent, body.run_input(), kwargs, caller, options)
    except Exception as exc:  # the run's failure is the answer
        return Answer.failure(exc)
    return Answer.of(InvokeResponse.of(result))


def invoke_sync(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> Answer:
    """`invoke` for WSGI views: `agent.run`, which honours the run timeout too."""
    try:
        kwargs = _run_kwargs(agent, body, caller, options)
        admission_for(options).arrive_sync(caller)
        result = _run_sync(agent, body.run_input(), kwargs, caller, options)
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
    try:
        await admission_for(options).arrive(caller)  # a batch is one request
    except Exception as exc:
        return Answer.failure(exc)

    async def one(index: int, item: InvokeRequest) -> BatchItem:
        try:
            kwargs = _run_kwargs(agent, item, caller, options)
            result = await _run(agent, item.run_input(), kwargs, caller, options)
        except Exception as exc:  # one bad input must not fail the others
            status, error, _ = error_answer(exc)
            return BatchItem(index=index, status=status, error=ErrorDetail(**error["error"]))
        return BatchItem(index=index, status=200, result=InvokeResponse.of(result))

    from ..batch.pool import map_ordered  # the same pool as Agent.batch and jobs

    # bounded workers, answers in input order
    results = await map_ordered(body.inputs, one, concurrency=options.batch_concurrency)
    return Answer.of(BatchResponse(results=results))


def batch_sync(agent: Agent, body: BatchRequest, caller: Caller, options: ServingOptions) -> Answer:
    from ..bridge import run_coroutine_sync

    return run_coroutine_sync(batch(agent, body, caller, options))


# -- streams -------------------------------------------------------------------------


async def stream(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> Stream | Answer:
    """`POST /stream`: the run's events as SSE; bad input and limits are answered
    (413, 422, 429) before the first frame."""
    try:
        kwargs = _run_kwargs(agent, body, caller, options)
        _check_guardrails(agent, body.run_input())  # a refusal is a 422, not an event
        admission = admission_for(options)
        await admission.arrive(caller)
        await admission.before_run(caller)
        events = agent.astream(body.run_input(), **kwargs)
    except Exception as exc:
        return Answer.failure(exc)
    return Stream(_event_frames(events, caller, options, body.session_id))


def stream_sync(
    agent: Agent, body: InvokeRequest, caller: Caller, options: ServingOptions
) -> Stream | Answer:
    """`stream` for WSGI views: the limits are checked here, the frames come from the bridge."""
    try:
        kwargs = _run_kwargs(agent, body, caller, options)
        _check_guardrails(agent, body.run_input())
        admission = admission_for(options)
        admission.arrive_sync(caller)
        admission.before_run_sync(caller)
        events = agent.astream(body.run_input(), **kwargs)
    except Exception as exc:
        return Answer.failure(exc)
    return Stream(_event_frames(events, caller, options, body.session_id))


async def _event_frames(
    events: AsyncIterator[Event], caller: Caller, options: ServingOptions, session_id: str | None
) -> AsyncIterator[str]:
    run_id = ""
    text_sent = charged = False
    admission = admission_for(options)
    try:
        async for item in sse.with_keepalive(events, options):
            if item is None:
                yield sse.comment()
                continue
            run_id = item.run_id
            text_sent = text_sent or isinstance(item, TextDelta)
            if isinstance(item, RunFinished):
                charged = True
                await admission.after_run(caller, item.result.usage)
            yield sse.frame(event_out(item))
    except Exception as exc:  # the stream has started: the failure is its last event
        charged = True
        await admission.after_run(caller, used_so_far(events, exc))
        degraded = None if text_sent else fallback_result(exc, options, session_id)
        if degraded is not None:
            run_id = run_id or degraded.run_id
            if not run_id:
                yield sse.frame(event_out(RunStarted(degraded.run_id, session_id)))
            degraded = dataclasses.replace(degraded, run_id=run_id)
            yield sse.frame(event_out(TextDelta(run_id, degraded.text)))
            yield sse.frame(event_out(RunFinished(run_id, degraded)))
            return
        log_unexpected(exc)
        yield sse.frame(ErrorEvent.of(RunFailed.from_exception(run_id, exc)))
    finally:  # stopped (the client left, the run was cancelled): charge what it used
        if not charged:
            await admission.after_run(caller, used_so_far(events))


# -- OpenAI-compatible ---------------------------------------------------------------


async def chat_completions(
    agent: Agent, body: ChatCompletionRequest, caller: Caller, options: ServingOptions
) -> Answer | Stream:
    """`POST /v1/chat/completions`, plain or `stream: true`."""
    try:
        body.check_supported()
        _check_input_size(body.input_chars(), options)
        if body.stream:
            _check_guardrails(agent, body.run_input())
        admission = admission_for(options)
        await admission.arrive(caller)
        if body.stream:
            await admission.before_run(caller)
            return _chat_stream(agent, body, caller, options)
        result = await _run(agent, body.run_input(), _chat_kwargs(body, caller), caller, options)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(ChatCompletion.of(result, options.model_name))


def chat_completions_sync(
    agent: Agent, body: ChatCompletionRequest, caller: Caller, options: ServingOptions
) -> Answer | Stream:
    try:
        body.check_supported()
        _check_input_size(body.input_chars(), options)
        if body.stream:
            _check_guardrails(agent, body.run_input())
        admission = admission_for(options)
        admission.arrive_sync(caller)
        if body.stream:
            admission.before_run_sync(caller)
            return _chat_stream(agent, body, caller, options)
        kwargs = _chat_kwargs(body, caller)
        result = _run_sync(agent, body.run_input(), kwargs, caller, options)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(ChatCompletion.of(result, options.model_name))


def _chat_kwargs(body: ChatCompletionRequest, caller: Caller) -> dict[str, Any]:
    return {
        "identity": caller.identity,
        "metadata": caller.metadata,
        "config": body.overrides(),
        "output_type": body.output_type(),
    }


def _chat_stream(
    agent: Agent, body: ChatCompletionRequest, caller: Caller, options: ServingOptions
) -> Stream:
    """The streamed completion; the caller has checked the input and the limits."""
    events = agent.astream(body.run_input(), **_chat_kwargs(body, caller))
    return Stream(_openai_frames(events, caller, options, body.include_usage()))


async def _openai_frames(
    events: AsyncIterator[Event], caller: Caller, options: ServingOptions, include_usage: bool
) -> AsyncIterator[str]:
    name = options.model_name
    run_id = ""
    text_sent = False
    result: AgentResult | None = None
    charged = False
    admission = admission_for(options)
    try:
        async for item in sse.with_keepalive(events, options):
            if item is None:
                yield sse.comment()
                continue
            if not run_id:
                run_id = item.run_id
                yield sse.data_frame(ChatCompletionChunk.of(run_id, name, role=True, content=""))
            if isinstance(item, TextDelta):
                text_sent = True
                yield sse.data_frame(ChatCompletionChunk.of(run_id, name, content=item.text))
            elif isinstance(item, RunFinished):
                result = item.result
                charged = True
                await admission.after_run(caller, result.usage)
                if result.awaiting_approval:  # never ran: say so in place of an answer
                    yield sse.data_frame(ChatCompletionChunk.of(run_id, name, content=result.text))
    except Exception as exc:
        charged = True
        await admission.after_run(caller, used_so_far(events, exc))
        result = None if text_sent else fallback_result(exc, options, None)
        if result is None:
            _, body, _ = error_answer(exc)
            yield f"data: {pydantic_core.to_json(body).decode()}\n\n"
            return
        run_id = run_id or result.run_id
        yield sse.data_frame(ChatCompletionChunk.of(run_id, name, content=result.text))
    finally:  # stopped (the client left): charge what it used
        if not charged:
            await admission.after_run(caller, used_so_far(events))
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
        if may_pause(agent.tools.values(), agent.policies):  # deciding one would write it back
            from ..approval.stores import awithdraw_session  # approvals load only here

            await awithdraw_session(store, session_id)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer(204, b"")


def delete_session_sync(agent: Agent, session_id: str, caller: Caller) -> Answer:
    try:
        session_id = check_session_id(session_id)
        store = agent.memory.store
        _visible(store.load(session_id), session_id, caller)
        store.delete(session_id)
        if may_pause(agent.tools.values(), agent.policies):
            from ..approval.stores import withdraw_session

            withdraw_session(store, session_id)
    except Exception as exc:
        return Answer.failure(exc)
    return Answer(204, b"")
