"""The agent loop, once for sync callers and once for async ones.

Both walk the same RunState; they differ only in how they wait. The sync
driver never starts an event loop of its own for plain sync tools, so
`agent.run()` works in Jupyter, in sync web views and inside other loops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ._execution import _Prepared, call_tools_async, call_tools_sync, public_arguments
from ._run import RunState
from .errors import ProviderError, RunTimeoutError, SelectoolsError
from .events import (
    Event,
    ModelCallFinished,
    ModelCallStarted,
    RunFailed,
    RunFinished,
    RunStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from .providers.base import ModelResponse, TextChunk
from .results import ToolCallRecord


def iterate_sync(state: RunState, *, stream_model: bool) -> Iterator[Event]:
    agent = state.agent
    hub = agent.observers
    provider = agent.provider
    store = agent.memory.store
    try:
        state.begin(store.load(state.session_id) if state.session_id else None)
        event: Any = RunStarted(state.run_id, state.session_id)
        hub.emit("on_run_start", event)
        yield event
        while True:
            request = state.next_request()
            started = time.perf_counter()
            if hub:
                hub.emit("on_llm_start", ModelCallStarted(state.run_id, request))
            if stream_model:
                response = None
                chunks = iter(provider.stream(request))
                try:
                    for item in chunks:
                        if isinstance(item, TextChunk):
                            yield TextDelta(state.run_id, item.text)
                        else:
                            response = item
                finally:
                    _close(chunks)  # closes the upstream stream if our consumer went away
                response = _require_response(response, provider)
            else:
                response = provider.complete(request)
            if hub:
                hub.emit("on_llm_end", _finished_call(state, response, started))
            batch = state.accept(response)
            if not batch:
                break
            for event in _started_events(state, batch):
                hub.emit("on_tool_start", event)
                yield event
            records = call_tools_sync(
                batch, tool_timeout=_tool_timeout(state), parallel=state.config.parallel_tool_calls
            )
            state.add_results(records)
            for event in _finished_events(state, records):
                hub.emit(_tool_hook(event), event)
                yield event
            state.remaining()
        if state.session_id:
            store.append(state.session_id, state.to_store(), owner=state.identity)
        result = state.result()
        agent.totals.add(result.usage)
        event = RunFinished(state.run_id, result)
        hub.emit("on_run_end", event)
        yield event
    except Exception as exc:
        hub.emit("on_run_end", failure_event(state.run_id, exc))
        raise


async def iterate_async(state: RunState, *, stream_model: bool) -> AsyncIterator[Event]:
    agent = state.agent
    hub = agent.observers
    provider = agent.provider
    store = agent.memory.store
    try:
        state.begin(await store.aload(state.session_id) if state.session_id else None)
        event: Any = RunStarted(state.run_id, state.session_id)
        await hub.aemit("on_run_start", event)
        yield event
        while True:
            request = state.next_request()
            started = time.perf_counter()
            if hub:
                await hub.aemit("on_llm_start", ModelCallStarted(state.run_id, request))
            if stream_model:
                response = None
                achunks = aiter(provider.astream(request))
                try:
                    while True:
                        try:
                            async with asyncio.timeout(state.remaining()):
                                item = await anext(achunks)
                        except StopAsyncIteration:
                            break
                        if isinstance(item, TextChunk):
                            yield TextDelta(state.run_id, item.text)
                        else:
                            response = item
                finally:
                    await _aclose(achunks)
                response = _require_response(response, provider)
            elif state.deadline is None:
                response = await provider.acomplete(request)
            else:
                async with asyncio.timeout(state.remaining()):
                    response = await provider.acomplete(request)
            if hub:
                await hub.aemit("on_llm_end", _finished_call(state, response, started))
            batch = state.accept(response)
            if not batch:
                break
            for event in _started_events(state, batch):
                await hub.aemit("on_tool_start", event)
                yield event
            records = await call_tools_async(
                batch, tool_timeout=_tool_timeout(state), parallel=state.config.parallel_tool_calls
            )
            state.add_results(records)
            for event in _finished_events(state, records):
                await hub.aemit(_tool_hook(event), event)
                yield event
            state.remaining()
        if state.session_id:
            await store.aappend(state.session_id, state.to_store(), owner=state.identity)
        result = state.result()
        agent.totals.add(result.usage)
        event = RunFinished(state.run_id, result)
        await hub.aemit("on_run_end", event)
        yield event
    except TimeoutError as exc:
        error = exc if isinstance(exc, RunTimeoutError) else state.timeout_error()
        await hub.aemit("on_run_end", failure_event(state.run_id, error))
        if error is exc:
            raise
        raise error from None
    except Exception as exc:
        await hub.aemit("on_run_end", failure_event(state.run_id, exc))
        raise


def failure_event(run_id: str, exc: BaseException) -> RunFailed:
    """The wire form of an exception: safe message, stable type name, HTTP-like status."""
    if isinstance(exc, ProviderError):
        status = exc.default_status
        if exc.status_code in (400, 429):
            status = exc.status_code
        return RunFailed(run_id, _error_type(exc), str(exc), status)
    if isinstance(exc, SelectoolsError):
        return RunFailed(run_id, _error_type(exc), str(exc), _status_for(exc))
    return RunFailed(run_id, "internal_error", "The run failed unexpectedly; see server logs.")


def _error_type(exc: BaseException) -> str:
    name = type(exc).__name__.removesuffix("Error") or "Selectools"
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_") + "_error"


def _status_for(exc: SelectoolsError) -> int:
    from .errors import InvalidInputError, MaxIterationsError, SessionNotFoundError

    if isinstance(exc, InvalidInputError):
        return 422
    if isinstance(exc, RunTimeoutError):
        return 504
    if isinstance(exc, SessionNotFoundError):
        return 404
    if isinstance(exc, MaxIterationsError):
        return 422
    return 500


def _close(iterator: Iterator[Any]) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


def _require_response(response: ModelResponse | None, provider: Any) -> ModelResponse:
    if response is None:
        raise ProviderError(
            f"Provider {provider!r} ended its stream without a final response.",
            provider=getattr(provider, "name", ""),
        )
    return response


def _finished_call(state: RunState, response: ModelResponse, started: float) -> ModelCallFinished:
    return ModelCallFinished(state.run_id, response, (time.perf_counter() - started) * 1000)


def _tool_timeout(state: RunState) -> float | None:
    remaining = state.remaining()
    limits = [t for t in (state.config.tool_timeout, remaining) if t is not None]
    return min(limits) if limits else None


def _started_events(
    state: RunState, batch: list[_Prepared | ToolCallRecord]
) -> list[ToolCallStarted]:
    """One event per call; calls refused before running (a ToolCallRecord) are announced too."""
    events = []
    for item in batch:
        if isinstance(item, _Prepared):
            call_id, name, raw = item.call.id, item.call.name, item.call.arguments
        else:
            call_id, name, raw = item.id, item.name, item.raw_arguments
        events.append(ToolCallStarted(state.run_id, call_id, name, public_arguments(item), raw))
    return events


def _finished_events(state: RunState, records: list[ToolCallRecord]) -> list[ToolCallFinished]:
    return [ToolCallFinished(state.run_id, record) for record in records]


def _tool_hook(event: ToolCallFinished) -> str:
    return "on_tool_end" if event.record.ok else "on_tool_error"
