"""Calling the model's tool calls: validation, policies, timeouts, errors as tool messages.

A call the model made becomes a `ToolInvocation` once its tool is found and
its arguments validated; otherwise it becomes a failed `ToolCallRecord` that
the model reads and can correct. Every invocation passes the agent's and the
tool's policies (`before_tool` may replace the call's outcome, `after_tool`
may change it) and ends as exactly one record.
"""

from __future__ import annotations

import functools
import inspect
import json
import threading
import time
import types
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import field
from typing import Any, TypeVar

from ..bridge import run_coroutine_sync, run_in_thread, submit_in_thread
from ..context import RunContext
from ..errors import ToolArgumentError
from ..frozen import record
from ..messages import ToolCall
from ..results import ToolCallRecord
from ..unicode import well_formed
from .streaming import ProgressSink, drain_async, drain_sync
from .tool import Tool, ToolInterceptor, format_tool_result
from .toolkit import ToolkitError

__all__ = [
    "CallProgress",
    "ToolInvocation",
    "acall_tool",
    "call_tool",
    "call_tools_async",
    "call_tools_sync",
    "prepare",
    "shortest_timeout",
]

T = TypeVar("T")

_STREAMED = (types.GeneratorType, types.AsyncGeneratorType)  # what streaming tools return

CallProgress = Callable[[ToolCall, Any], None]
"""Receives each chunk a streaming tool yields, with the call it belongs to (any thread)."""


@record
class ToolInvocation:
    """A validated call about to run: what policies see and may rewrite.

    `arguments` are the validated arguments the model chose (never the
    injected run context); `refuse()` and `succeed()` build the record a
    policy returns from `before_tool` to stand in for the call.
    """

    call: ToolCall
    tool: Tool
    arguments: Mapping[str, Any]
    context: RunContext
    started: float = field(default_factory=time.perf_counter, compare=False)

    @property
    def name(self) -> str:
        return self.call.name

    def refuse(self, message: str, *, error_type: str = "refused") -> ToolCallRecord:
        """The call does not run; the model reads `message` as the tool's error."""
        return _failed(self.call, self, error_type, message)

    def succeed(self, value: Any) -> ToolCallRecord:
        """The call does not run; the model reads `value` as its result (a cache hit, say)."""
        return _succeeded(self, value)


def prepare(
    tools: Mapping[str, Tool], call: ToolCall, context: RunContext
) -> ToolInvocation | ToolCallRecord:
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
    return ToolInvocation(call, tool, arguments, context)


def call_tools_sync(
    batch: Sequence[ToolInvocation | ToolCallRecord],
    *,
    tool_timeout: float | None,
    parallel: bool,
    policies: Sequence[ToolInterceptor] = (),
    on_progress: CallProgress | None = None,
) -> list[ToolCallRecord]:
    runnable = [p for p in batch if isinstance(p, ToolInvocation)]
    if parallel and len(runnable) > 1:
        return run_coroutine_sync(
            call_tools_async(
                batch,
                tool_timeout=tool_timeout,
                parallel=True,
                policies=policies,
                on_progress=on_progress,
            )
        )
    return [
        p if isinstance(p, ToolCallRecord) else _call_sync(p, tool_timeout, policies, on_progress)
        for p in batch
    ]


async def call_tools_async(
    batch: Sequence[ToolInvocation | ToolCallRecord],
    *,
    tool_timeout: float | None,
    parallel: bool,
    policies: Sequence[ToolInterceptor] = (),
    on_progress: CallProgress | None = None,
) -> list[ToolCallRecord]:
    async def one(item: ToolInvocation | ToolCallRecord) -> ToolCallRecord:
        if isinstance(item, ToolCallRecord):
            return item
        return await _call_async(item, tool_timeout, policies, on_progress)

    if not parallel or len(batch) == 1:
        return [await one(item) for item in batch]
    import asyncio

    async with asyncio.TaskGroup() as group:  # cancelling the run cancels every pending call
        tasks = [group.create_task(one(item)) for item in batch]
    return [task.result() for task in tasks]


def call_tool(
    tool: Tool,
    arguments: Mapping[str, Any],
    *,
    context: RunContext | None = None,
    call_id: str = "",
) -> ToolCallRecord:
    """Call one tool outside an agent, with every guarantee the loop gives it.

    For adapters that hand a tool to another framework: the arguments are
    validated, the tool's own policies (rate limit, cache, ...) run, and its
    timeout and sandbox hold. A tool that needs a person's approval is refused,
    since nobody outside a run can give it. Failures come back as a failed
    record, never raised.
    """
    checked = _checked(tool, arguments, context, call_id)
    if isinstance(checked, ToolCallRecord):
        return checked
    return _call_sync(checked, None, ())


async def acall_tool(
    tool: Tool,
    arguments: Mapping[str, Any],
    *,
    context: RunContext | None = None,
    call_id: str = "",
) -> ToolCallRecord:
    """`call_tool` on the event loop: async tools run natively, sync ones in a thread."""
    checked = _checked(tool, arguments, context, call_id)
    if isinstance(checked, ToolCallRecord):
        return checked
    return await _call_async(checked, None, ())


def _checked(
    tool: Tool, arguments: Mapping[str, Any], context: RunContext | None, call_id: str
) -> ToolInvocation | ToolCallRecord:
    call = ToolCall(call_id, tool.name, json.dumps(dict(arguments), default=str))
    if tool.requires_approval:
        return _failed(
            call,
            None,
            "approval_required",
            f"Tool '{tool.name}' needs a person's approval before it runs, and nobody can "
            f"give it outside an agent run, so it was not run.",
        )
    try:
        parsed = tool.parse_arguments(dict(arguments))
    except ToolArgumentError as exc:
        return _failed(call, None, "invalid_arguments", str(exc))
    return ToolInvocation(call, tool, parsed, context if context is not None else RunContext())


# -- one call, with its policies -----------------------------------------------------


def _chain(agent_policies: Sequence[ToolInterceptor], tool: Tool) -> Sequence[ToolInterceptor]:
    if not tool.policies:
        return agent_policies
    return (*agent_policies, *tool.policies)


def _call_sync(
    invocation: ToolInvocation,
    run_timeout: float | None,
    policies: Sequence[ToolInterceptor],
    on_progress: CallProgress | None = None,
) -> ToolCallRecord:
    chain = _chain(policies, invocation.tool)
    if not chain:
        return _execute_sync(invocation, run_timeout, on_progress)
    outcome = _drive_sync(_before(chain, invocation))
    if isinstance(outcome, ToolInvocation):
        invocation = outcome
        try:
            outcome = _execute_sync(invocation, run_timeout, on_progress)
        except BaseException as exc:
            _abandoned(chain, invocation, exc)
            raise
    return _drive_sync(_after(chain, invocation, outcome))


async def _call_async(
    invocation: ToolInvocation,
    run_timeout: float | None,
    policies: Sequence[ToolInterceptor],
    on_progress: CallProgress | None = None,
) -> ToolCallRecord:
    chain = _chain(policies, invocation.tool)
    if not chain:
        return await _execute_async(invocation, run_timeout, on_progress)
    outcome = await _drive_async(_before(chain, invocation))
    if isinstance(outcome, ToolInvocation):
        invocation = outcome
        try:
            outcome = await _execute_async(invocation, run_timeout, on_progress)
        except BaseException as exc:  # cancelled mid-call: `after_tool` will never run
            _abandoned(chain, invocation, exc)
            raise
    return await _drive_async(_after(chain, invocation, outcome))


def _abandoned(
    chain: Sequence[ToolInterceptor], invocation: ToolInvocation, exc: BaseException
) -> None:
    """Tell policies with a sync `tool_abandoned(invocation, exc)` hook (an audit log) that
    the call was cut off, so a cancelled run still leaves its record; their errors are logged."""
    for policy in reversed(chain):
        hook = getattr(policy, "tool_abandoned", None)
        if hook is None:
            continue
        try:
            hook(invocation, exc)
        except Exception:
            import logging

            logging.getLogger("selectools.tools").exception(
                "policy %r failed in tool_abandoned", policy
            )


# Hooks may be sync or async. Each chain is written once, as a generator that
# yields the awaitables it meets; the sync driver resolves them on the bridge
# loop (never when every hook is sync), the async driver awaits them.
_Steps = Generator[Awaitable[Any], Any, T]


def _before(chain: Sequence[ToolInterceptor], invocation: ToolInvocation) -> _Steps[Any]:
    """Each policy in order; the first that answers with a record stands in for the call."""
    for policy in chain:
        hook = getattr(policy, "before_tool", None)
        if hook is None:
            continue
        outcome = hook(invocation)
        if inspect.isawaitable(outcome):
            outcome = yield outcome
        if isinstance(outcome, ToolCallRecord):
            return outcome
        if isinstance(outcome, ToolInvocation):
            invocation = outcome
    return invocation


def _after(
    chain: Sequence[ToolInterceptor], invocation: ToolInvocation, record: ToolCallRecord
) -> _Steps[ToolCallRecord]:
    """Each policy in reverse order, like middleware unwinding; each may change the record."""
    for policy in reversed(chain):
        hook = getattr(policy, "after_tool", None)
        if hook is None:
            continue
        outcome = hook(invocation, record)
        if inspect.isawaitable(outcome):
            outcome = yield outcome
        if isinstance(outcome, ToolCallRecord):
            record = outcome
    return record


def _drive_sync(steps: _Steps[T]) -> T:
    value: Any = None
    while True:
        try:
            awaitable = steps.send(value)
        except StopIteration as done:
            result: T = done.value
            return result
        value = run_coroutine_sync(_awaited(awaitable))


async def _drive_async(steps: _Steps[T]) -> T:
    value: Any = None
    while True:
        try:
            awaitable = steps.send(value)
        except StopIteration as done:
            result: T = done.value
            return result
        value = await awaitable


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


# -- running the function ------------------------------------------------------------


def _bound(invocation: ToolInvocation) -> Mapping[str, Any]:
    """The arguments to call with: the validated ones, plus the run context if asked for."""
    tool = invocation.tool
    if tool.context_param is None:
        return invocation.arguments  # only ever unpacked into a call: no copy needed
    return tool.bind(dict(invocation.arguments), invocation.context)


def _execute_sync(
    invocation: ToolInvocation, run_timeout: float | None, on_progress: CallProgress | None = None
) -> ToolCallRecord:
    tool = invocation.tool
    timeout = shortest_timeout(tool.timeout, run_timeout)
    if tool.is_async:
        return run_coroutine_sync(_execute_async(invocation, run_timeout, on_progress))
    started = time.perf_counter()
    arguments = _bound(invocation)
    emit = _sink(invocation, on_progress)
    try:
        if timeout is None:
            value = _call_sync_function(tool, arguments, emit, None)
        else:
            import concurrent.futures

            stop = threading.Event()
            work = submit_in_thread(_call_sync_function, tool, arguments, emit, stop)
            try:
                value = work.result(timeout)
            except concurrent.futures.TimeoutError:
                stop.set()  # a streaming tool stops at its next yield
                return _timed_out(invocation, timeout, started)
    except Exception as exc:
        return _raised(invocation, exc, started)
    return _succeeded(invocation, value, started)


async def _execute_async(
    invocation: ToolInvocation, run_timeout: float | None, on_progress: CallProgress | None = None
) -> ToolCallRecord:
    tool = invocation.tool
    timeout = shortest_timeout(tool.timeout, run_timeout)
    started = time.perf_counter()
    arguments = _bound(invocation)
    emit = _sink(invocation, on_progress)
    try:
        if timeout is None:  # no timer to arm: the common case stays cheap
            value = await _run_async(tool, arguments, emit)
        else:
            import asyncio  # beside arming a timer, a dictionary lookup

            async with asyncio.timeout(timeout):
                value = await _run_async(tool, arguments, emit)
    except TimeoutError:
        return _timed_out(invocation, timeout, started)
    except Exception as exc:
        return _raised(invocation, exc, started)
    return _succeeded(invocation, value, started)


async def _run_async(tool: Tool, arguments: Mapping[str, Any], emit: ProgressSink | None) -> Any:
    if tool.sandbox is not None:  # a fresh limited process; cancelling kills it
        from .sandboxed import run_sandboxed

        return await run_sandboxed(tool, arguments)
    if tool.afunction is not None:
        value = await tool.afunction(**arguments)
    elif tool.is_async:
        value = await tool.function(**arguments)
    elif inspect.isasyncgenfunction(tool.function):
        value = tool.function(**arguments)  # drained below, on this loop
    else:  # never block the event loop with a sync tool
        stop = threading.Event()
        try:
            return await run_in_thread(_call_sync_function, tool, arguments, emit, stop)
        finally:
            stop.set()  # a sync generator left running in its thread stops at its next yield
    if inspect.isasyncgen(value):
        value = await drain_async(value, emit)
    return value


def _call_sync_function(
    tool: Tool,
    arguments: Mapping[str, Any],
    emit: ProgressSink | None,
    stop: threading.Event | None,
) -> Any:
    """Call a sync tool; a generator it returns is run to its end here (see `streaming`)."""
    if tool.sandbox is not None:
        from .sandboxed import run_sandboxed_sync

        return run_sandboxed_sync(tool, arguments)
    value = tool.function(**arguments)
    if isinstance(value, _STREAMED):  # one check for the common case, a plain value
        if isinstance(value, types.GeneratorType):
            return drain_sync(value, emit, stop)
        return run_coroutine_sync(drain_async(value, emit, stop))
    return value


def _sink(invocation: ToolInvocation, on_progress: CallProgress | None) -> ProgressSink | None:
    if on_progress is None:
        return None
    return functools.partial(on_progress, invocation.call)


def shortest_timeout(first: float | None, second: float | None) -> float | None:
    """The tighter of two optional limits in seconds (None: no limit)."""
    if first is None:
        return second
    return first if second is None else min(first, second)


# -- records -------------------------------------------------------------------------


def _duration(invocation: ToolInvocation | None, started: float | None) -> float:
    """From the start of execution, or (a policy's answer) from when the call was prepared."""
    if started is not None:
        return _elapsed_ms(started)
    return _elapsed_ms(invocation.started) if invocation is not None else 0.0


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _succeeded(
    invocation: ToolInvocation, value: Any, started: float | None = None
) -> ToolCallRecord:
    call = invocation.call
    output = value if type(value) is str else format_tool_result(value)
    return ToolCallRecord(  # positional: once a call, and keyword calls cost more
        call.id,
        call.name,
        call.arguments,
        invocation.arguments,
        value,
        output if output.isascii() else well_formed(output),
        None,
        None,
        _elapsed_ms(invocation.started if started is None else started),
    )


def _raised(invocation: ToolInvocation, exc: Exception, started: float) -> ToolCallRecord:
    if isinstance(exc, ToolkitError):  # written for the model: hand it over as it is
        return _failed(invocation.call, invocation, exc.error_type, str(exc), started)
    kind = type(exc).__name__
    message = f"Tool '{invocation.call.name}' failed with {kind}: {exc}"
    return _failed(invocation.call, invocation, kind, message, started)


def _timed_out(invocation: ToolInvocation, timeout: float | None, started: float) -> ToolCallRecord:
    message = (
        f"Tool '{invocation.call.name}' did not finish within {timeout:g} s and was stopped. "
        f"Try a smaller request or another approach."
    )
    return _failed(invocation.call, invocation, "timeout", message, started)


def _failed(
    call: ToolCall,
    invocation: ToolInvocation | None,
    kind: str,
    message: str,
    started: float | None = None,
) -> ToolCallRecord:
    return ToolCallRecord(
        id=call.id,
        name=call.name,
        raw_arguments=call.arguments,
        arguments=invocation.arguments if invocation is not None else None,
        output=well_formed(f"Error: {message}"),
        error=well_formed(message),
        error_type=kind,
        duration_ms=_duration(invocation, started),
    )
