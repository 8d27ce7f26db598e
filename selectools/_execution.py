"""Executing the model's tool calls: validation, timeouts, errors turned into tool messages."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ._bridge import run_coroutine_sync, run_in_thread, submit_in_thread
from .context import RunContext
from .errors import ToolArgumentError
from .messages import ToolCall
from .results import ToolCallRecord
from .tools import Tool, format_tool_result


class _Prepared:
    __slots__ = ("arguments", "call", "public", "started", "tool")

    def __init__(self, call: ToolCall, tool: Tool, arguments: dict[str, Any]) -> None:
        self.call = call
        self.tool = tool
        self.arguments = arguments
        hidden = tool.context_param
        # what events and records show: the arguments without the injected run context
        self.public = (
            arguments if hidden is None else {k: v for k, v in arguments.items() if k != hidden}
        )
        self.started = time.perf_counter()


def prepare(
    tools: Mapping[str, Tool], call: ToolCall, context: RunContext
) -> _Prepared | ToolCallRecord:
    """Find and validate; a problem becomes a failed record the model will read."""
    tool = tools.get(call.name)
    if tool is None:
        available = ", ".join(sorted(tools)) or "(none)"
        return _failed(
            call,
            None,
            "unknown_tool",
            f"Unknown tool '{call.name}'. Available tools: {available}. Call one of these.",
        )
    try:
        arguments = tool.parse_arguments(call.arguments)
    except ToolArgumentError as exc:
        return _failed(call, None, "invalid_arguments", str(exc))
    return _Prepared(call, tool, tool.bind(arguments, context))


def public_arguments(prepared: _Prepared | ToolCallRecord) -> Mapping[str, Any] | None:
    """The validated arguments without the injected run context."""
    return None if isinstance(prepared, ToolCallRecord) else prepared.public


def call_tools_sync(
    batch: Sequence[_Prepared | ToolCallRecord], *, tool_timeout: float | None, parallel: bool
) -> list[ToolCallRecord]:
    runnable = [p for p in batch if isinstance(p, _Prepared)]
    if parallel and len(runnable) > 1:
        return run_coroutine_sync(call_tools_async(batch, tool_timeout=tool_timeout, parallel=True))
    return [p if isinstance(p, ToolCallRecord) else _call_sync(p, tool_timeout) for p in batch]


async def call_tools_async(
    batch: Sequence[_Prepared | ToolCallRecord], *, tool_timeout: float | None, parallel: bool
) -> list[ToolCallRecord]:
    async def one(item: _Prepared | ToolCallRecord) -> ToolCallRecord:
        return item if isinstance(item, ToolCallRecord) else await _call_async(item, tool_timeout)

    if not parallel or len(batch) == 1:
        return [await one(item) for item in batch]
    async with asyncio.TaskGroup() as group:  # cancelling the run cancels every pending call
        tasks = [group.create_task(one(item)) for item in batch]
    return [task.result() for task in tasks]


def _call_sync(prepared: _Prepared, run_timeout: float | None) -> ToolCallRecord:
    tool = prepared.tool
    timeout = _effective_timeout(tool, run_timeout)
    if tool.is_async:
        return run_coroutine_sync(_call_async(prepared, run_timeout))
    prepared.started = time.perf_counter()
    try:
        if timeout is None:
            value = tool.function(**prepared.arguments)
        else:
            call = functools.partial(tool.function, **prepared.arguments)
            value = submit_in_thread(call).result(timeout)
    except concurrent.futures.TimeoutError:
        return _timed_out(prepared, timeout)
    except Exception as exc:
        return _raised(prepared, exc)
    return _succeeded(prepared, value)


async def _call_async(prepared: _Prepared, run_timeout: float | None) -> ToolCallRecord:
    tool = prepared.tool
    timeout = _effective_timeout(tool, run_timeout)
    prepared.started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            if tool.afunction is not None:
                value = await tool.afunction(**prepared.arguments)
            elif tool.is_async:
                value = await tool.function(**prepared.arguments)
            else:  # never block the event loop with a sync tool
                value = await run_in_thread(lambda: tool.function(**prepared.arguments))
    except TimeoutError:
        return _timed_out(prepared, timeout)
    except Exception as exc:
        return _raised(prepared, exc)
    return _succeeded(prepared, value)


def _effective_timeout(tool: Tool, run_timeout: float | None) -> float | None:
    limits = [t for t in (tool.timeout, run_timeout) if t is not None]
    return min(limits) if limits else None


def _elapsed_ms(prepared: _Prepared) -> float:
    return (time.perf_counter() - prepared.started) * 1000


def _succeeded(prepared: _Prepared, value: Any) -> ToolCallRecord:
    return ToolCallRecord(
        id=prepared.call.id,
        name=prepared.call.name,
        raw_arguments=prepared.call.arguments,
        arguments=public_arguments(prepared),
        result=value,
        output=format_tool_result(value),
        duration_ms=_elapsed_ms(prepared),
    )


def _raised(prepared: _Prepared, exc: Exception) -> ToolCallRecord:
    kind = type(exc).__name__
    message = f"Tool '{prepared.call.name}' failed with {kind}: {exc}"
    return _failed(prepared.call, prepared, kind, message)


def _timed_out(prepared: _Prepared, timeout: float | None) -> ToolCallRecord:
    message = (
        f"Tool '{prepared.call.name}' did not finish within {timeout:g} s and was stopped. "
        f"Try a smaller request or another approach."
    )
    return _failed(prepared.call, prepared, "timeout", message)


def _failed(call: ToolCall, prepared: _Prepared | None, kind: str, message: str) -> ToolCallRecord:
    return ToolCallRecord(
        id=call.id,
        name=call.name,
        raw_arguments=call.arguments,
        arguments=public_arguments(prepared) if prepared is not None else None,
        output=f"Error: {message}",
        error=message,
        error_type=kind,
        duration_ms=_elapsed_ms(prepared) if prepared is not None else 0.0,
    )
