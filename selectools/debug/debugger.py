"""The Debugger: a provider wrapper and a tool policy that ask a handler before each step.

It is the innermost policy of the run it debugs, so it shows what the model
and the tools will really receive, after every other policy had its say.
"""

from __future__ import annotations

import inspect
import itertools
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..bridge import run_in_thread
from ..errors import SelectoolsError, ToolArgumentError
from ..policies.base import ProviderWrapper, ToolPolicy
from ..providers.base import ModelRequest, ModelResponse, Provider, TextChunk
from ..results import AgentResult, ToolCallRecord
from ..tools.calling import ToolInvocation
from .steps import Continue, Decision, Edit, ModelStep, Skip, Step, Stop, ToolStep

if TYPE_CHECKING:
    from ..agent import Agent

__all__ = ["DebugStopped", "Debugger", "Handler", "debug_run"]

Handler = Callable[[Step], "Decision | Awaitable[Decision]"]


class DebugStopped(SelectoolsError):
    """The debugger's handler stopped the run."""

    default_status = 409


class Debugger(ToolPolicy):
    """Pauses before each model call and tool call and asks `handler` what to do.

    `dry_run=True` runs no tool at all: each call is recorded in `planned` and
    the model reads that it was planned, not run. `history` keeps every step
    with the decision taken.
    """

    def __init__(self, handler: Handler | None = None, *, dry_run: bool = False) -> None:
        if handler is None:
            from .terminal import TerminalDebugger

            handler = TerminalDebugger()
        self.handler = handler
        self.dry_run = dry_run
        self.planned: list[tuple[str, dict[str, Any]]] = []
        self.history: list[tuple[Step, Decision]] = []
        self._models = itertools.count(1)
        self._tools = itertools.count(1)
        self._lock = threading.Lock()

    # -- model calls ----------------------------------------------------------------

    def wrap(self, provider: Provider) -> Provider:
        return _PausingProvider(provider, self)

    def _model_step(self, request: ModelRequest) -> ModelStep:
        with self._lock:
            return ModelStep(next(self._models), request)

    def decide_model(self, decision: Decision, step: ModelStep) -> None:
        self._keep(step, decision)
        if isinstance(decision, Stop):
            raise DebugStopped(
                f"The run was stopped before model call {step.index}: {decision.reason}"
            )
        if not isinstance(decision, Continue):
            raise TypeError(
                f"Before a model call the debugger can continue or stop, not {decision!r}."
            )

    # -- tool calls -----------------------------------------------------------------

    def before_tool(
        self, invocation: ToolInvocation
    ) -> ToolInvocation | ToolCallRecord | Awaitable[ToolInvocation | ToolCallRecord | None] | None:
        if self.dry_run:
            arguments = dict(invocation.arguments)
            with self._lock:
                self.planned.append((invocation.name, arguments))
            text = json.dumps(arguments, ensure_ascii=False, default=str)
            return invocation.succeed(f"[dry run] {invocation.name}({text}) was planned, not run.")
        with self._lock:
            step = ToolStep(next(self._tools), invocation)
        answer = self.handler(step)
        if inspect.isawaitable(answer):
            return self._later(answer, step)
        return self.decide_tool(answer, step)

    async def _later(
        self, answer: Awaitable[Decision], step: ToolStep
    ) -> ToolInvocation | ToolCallRecord | None:
        return self.decide_tool(await answer, step)

    def decide_tool(
        self, decision: Decision, step: ToolStep
    ) -> ToolInvocation | ToolCallRecord | None:
        self._keep(step, decision)
        invocation = step.invocation
        if isinstance(decision, Continue):
            return None
        if isinstance(decision, Stop):
            raise DebugStopped(
                f"The run was stopped before tool call {step.index} ({step.name}): "
                f"{decision.reason}"
            )
        if isinstance(decision, Skip):
            if decision.error is not None:
                return invocation.refuse(decision.error, error_type="skipped")
            return invocation.succeed(decision.result)
        if isinstance(decision, Edit):
            return _edited(invocation, decision.arguments)
        raise TypeError(f"Unknown debugger decision {decision!r}.")

    def _keep(self, step: Step, decision: Decision) -> None:
        with self._lock:
            self.history.append((step, decision))


def _edited(invocation: ToolInvocation, arguments: Mapping[str, Any]) -> ToolInvocation:
    """The same call with other arguments, validated like the model's own."""
    from dataclasses import replace

    raw = json.dumps(dict(arguments), ensure_ascii=False, default=str)
    try:
        parsed = invocation.tool.parse_arguments(raw)
    except ToolArgumentError as exc:
        raise ToolArgumentError(f"The edited arguments are not valid: {exc}") from None
    return replace(invocation, arguments=parsed)


class _PausingProvider(ProviderWrapper):
    def __init__(self, inner: Provider, debugger: Debugger) -> None:
        super().__init__(inner)
        self.debugger = debugger

    def _pause_sync(self, request: ModelRequest) -> None:
        step = self.debugger._model_step(request)
        answer = self.debugger.handler(step)
        if inspect.isawaitable(answer):
            from ..bridge import run_coroutine_sync

            answer = run_coroutine_sync(_awaited(answer))
        self.debugger.decide_model(answer, step)

    async def _pause(self, request: ModelRequest) -> None:
        step = self.debugger._model_step(request)
        handler = self.debugger.handler
        if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)  # noqa: B004
        ):
            answer = await handler(step)  # type: ignore[misc]
        else:  # a terminal prompt blocks: keep it off the event loop
            answer = await run_in_thread(handler, step)
            if inspect.isawaitable(answer):
                answer = await answer
        self.debugger.decide_model(answer, step)

    def complete(self, request: ModelRequest) -> ModelResponse:
        self._pause_sync(request)
        return self.inner.complete(request)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        await self._pause(request)
        return await self.inner.acomplete(request)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        self._pause_sync(request)
        yield from self.inner.stream(request)

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        await self._pause(request)
        async for item in self.inner.astream(request):
            yield item


async def _awaited(awaitable: Awaitable[Decision]) -> Decision:
    return await awaitable


def debug_run(
    agent: Agent,
    input: Any,
    *,
    handler: Handler | None = None,
    dry_run: bool = False,
    **run_options: Any,
) -> tuple[AgentResult, Debugger]:
    """Run `agent` once under a Debugger (innermost policy); the agent itself is unchanged."""
    from ..agent import Agent

    debugger = Debugger(handler, dry_run=dry_run)
    debugged = Agent(
        list(agent.tools.snapshot().tools.values()),
        agent.provider,
        system_prompt=agent.system_prompt,
        config=agent.config,
        memory=agent.memory,
        observers=[],
        policies=[*agent.policies, debugger],
        name=agent.name,
    )
    debugged.observers = agent.observers
    return debugged.run(input, **run_options), debugger
