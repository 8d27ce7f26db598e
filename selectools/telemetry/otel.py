"""The OpenTelemetry policy: `invoke_agent`, `chat` and `execute_tool` spans, GenAI metrics.

One object with three faces, listed once (`Agent(policies=[OpenTelemetry()])`):

- run hooks (`on_run_start`/`on_run_end`) open and close the `invoke_agent`
  span under whatever span is current when the run starts (the web
  framework's request span);
- the provider face wraps every model call in a `chat {model}` span (current
  while the call runs, so HTTP client spans nest under it) and records the
  token and duration histograms;
- the tool face opens `execute_tool {name}` in `before_tool` and makes it
  current, so the thread a sync tool runs in (the bridge copies contextvars)
  sees it; `after_tool` closes it with the outcome.

Model and tool spans find their run's span by run id, not by the current
context, so they nest correctly even when a streamed run is driven from
another task or thread than the one that started it. Message contents are
recorded only with `capture_content=True` (or the conventional environment
variable `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`).
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .. import __version__
from ..events import RunFailed, RunFinished, RunStarted
from ..extras import require
from ..policies.base import ProviderWrapper, ToolPolicy
from ..providers.base import ModelRequest, ModelResponse, Provider, TextChunk
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from . import semconv as sc

__all__ = ["OpenTelemetry"]

_CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_MAX_OPEN_RUNS = 4096  # runs abandoned without an end (a dropped stream) are closed past this

# The tool span this task or thread opened in before_tool, with its context token.
_open_tool: contextvars.ContextVar[tuple[Any, object] | None] = contextvars.ContextVar(
    "selectools_otel_tool", default=None
)


class OpenTelemetry(ToolPolicy):
    """Trace runs, model calls and tool calls; record GenAI token and duration histograms.

    Args:
        agent_name: `gen_ai.agent.name` and the `invoke_agent {name}` span name.
        capture_content: also record messages, tool arguments and results.
        tracer_provider / meter_provider: defaults are the global ones.
    """

    def __init__(
        self,
        *,
        agent_name: str | None = None,
        capture_content: bool | None = None,
        tracer_provider: Any = None,
        meter_provider: Any = None,
    ) -> None:
        feature = "OpenTelemetry tracing"
        self._trace = require("opentelemetry.trace", extra="otel", feature=feature)
        self._context = require("opentelemetry.context", extra="otel", feature=feature)
        metrics = require("opentelemetry.metrics", extra="otel", feature=feature)
        self.agent_name = agent_name
        if capture_content is None:
            capture_content = os.environ.get(_CAPTURE_ENV, "").lower() in {"1", "true"}
        self.capture_content = capture_content
        self._tracer = self._trace.get_tracer(
            "selectools", __version__, tracer_provider=tracer_provider
        )
        meter = metrics.get_meter("selectools", __version__, meter_provider=meter_provider)
        self._tokens = meter.create_histogram(
            sc.TOKEN_USAGE_METRIC,
            unit="{token}",
            description="Number of input and output tokens used.",
            explicit_bucket_boundaries_advisory=sc.TOKEN_BUCKETS,
        )
        self._duration = meter.create_histogram(
            sc.DURATION_METRIC,
            unit="s",
            description="GenAI operation duration.",
            explicit_bucket_boundaries_advisory=sc.DURATION_BUCKETS,
        )
        self._runs: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenTelemetry(agent_name={self.agent_name!r})"

    # -- run hooks: invoke_agent ----------------------------------------------------

    def on_run_start(self, event: RunStarted) -> None:
        attributes: dict[str, Any] = {sc.OPERATION: sc.INVOKE_AGENT}
        if self.agent_name:
            attributes[sc.AGENT_NAME] = self.agent_name
        if event.session_id:
            attributes[sc.CONVERSATION_ID] = event.session_id
        name = f"{sc.INVOKE_AGENT} {self.agent_name}" if self.agent_name else sc.INVOKE_AGENT
        span = self._tracer.start_span(
            name, kind=self._trace.SpanKind.INTERNAL, attributes=attributes
        )
        with self._lock:
            self._runs[event.run_id] = span
            while len(self._runs) > _MAX_OPEN_RUNS:
                _, stale = self._runs.popitem(last=False)
                stale.set_attribute(sc.ERROR_TYPE, "abandoned")
                stale.end()

    def on_run_end(self, event: RunFinished | RunFailed) -> None:
        with self._lock:
            span = self._runs.pop(event.run_id, None)
        if span is None:  # failed before it started (a session it may not open)
            span = self._tracer.start_span(
                (self.agent_name and f"{sc.INVOKE_AGENT} {self.agent_name}") or sc.INVOKE_AGENT,
                kind=self._trace.SpanKind.INTERNAL,
                attributes={sc.OPERATION: sc.INVOKE_AGENT},
            )
        if isinstance(event, RunFinished):
            result = event.result
            span.set_attributes(
                {
                    sc.INPUT_TOKENS: result.usage.input_tokens,
                    sc.OUTPUT_TOKENS: result.usage.output_tokens,
                }
            )
            if result.model:
                span.set_attribute(sc.RESPONSE_MODEL, result.model)
            if result.provider:
                span.set_attribute(sc.PROVIDER, result.provider)
        else:
            self._fail(span, event.error_type, event.message)
        span.end()

    def _parent(self, run_id: str | None) -> Any:
        """The context to start a child of this run's span in (the current one if unknown)."""
        span = self._runs.get(run_id) if run_id else None
        if span is None:
            return None
        return self._trace.set_span_in_context(span)

    def _fail(
        self, span: Any, error_type: str, message: str, exc: BaseException | None = None
    ) -> None:
        span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, message))
        span.set_attribute(sc.ERROR_TYPE, error_type)
        if exc is not None:
            span.record_exception(exc)
        else:
            span.add_event(
                "exception", {"exception.type": error_type, "exception.message": message}
            )

    # -- provider face: chat --------------------------------------------------------

    def wrap(self, provider: Provider) -> Provider:
        return _TracedProvider(provider, self)

    def start_chat(self, provider: Provider, request: ModelRequest) -> _ChatCall:
        model = provider.model
        attributes: dict[str, Any] = {
            sc.OPERATION: sc.CHAT,
            sc.PROVIDER: provider.name,
            sc.REQUEST_MODEL: model,
        }
        if request.temperature is not None:
            attributes[sc.REQUEST_TEMPERATURE] = request.temperature
        if request.max_tokens is not None:
            attributes[sc.REQUEST_MAX_TOKENS] = request.max_tokens
        if self.capture_content:
            messages, system = sc.input_messages(request.messages)
            attributes[sc.INPUT_MESSAGES] = messages
            if system is not None:
                attributes[sc.SYSTEM_INSTRUCTIONS] = system
        run_id = request.context.run_id if request.context is not None else None
        span = self._tracer.start_span(
            f"{sc.CHAT} {model}" if model else sc.CHAT,
            context=self._parent(run_id),
            kind=self._trace.SpanKind.CLIENT,
            attributes=attributes,
        )
        metric = {sc.OPERATION: sc.CHAT, sc.PROVIDER: provider.name, sc.REQUEST_MODEL: model}
        return _ChatCall(self, span, metric)

    # -- tool face: execute_tool ----------------------------------------------------

    def before_tool(self, invocation: ToolInvocation) -> None:
        span = self._tool_span(invocation)
        token = self._context.attach(self._trace.set_span_in_context(span))
        _open_tool.set((span, token))

    def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> None:
        opened = _open_tool.get()
        if opened is None:  # an outer policy answered for the call: trace that answer
            started = time.time_ns() - int(record.duration_ms * 1e6)
            span = self._tool_span(invocation, start_time=started)
        else:
            span, token = opened
            _open_tool.set(None)
            self._context.detach(token)
        if self.capture_content:
            span.set_attribute(
                sc.TOOL_ARGUMENTS,
                sc.arguments_json(invocation.arguments, invocation.call.arguments),
            )
            span.set_attribute(sc.TOOL_RESULT, record.output)
        if record.cached:
            span.set_attribute("selectools.tool.cached", True)
        if not record.ok:
            self._fail(span, record.error_type or "tool_error", record.error or "")
        span.end()

    def tool_abandoned(self, invocation: ToolInvocation, exc: BaseException) -> None:
        """The call was cut off (the run cancelled or failing): close its span as failed."""
        opened = _open_tool.get()
        if opened is None:
            return
        span, token = opened
        _open_tool.set(None)
        self._context.detach(token)
        self._fail(span, type(exc).__qualname__, str(exc) or "the tool call was cut off", exc)
        span.end()

    def _tool_span(self, invocation: ToolInvocation, start_time: int | None = None) -> Any:
        attributes: dict[str, Any] = {
            sc.OPERATION: sc.EXECUTE_TOOL,
            sc.TOOL_NAME: invocation.name,
            sc.TOOL_CALL_ID: invocation.call.id,
            sc.TOOL_TYPE: "function",
        }
        if invocation.tool.description:
            attributes[sc.TOOL_DESCRIPTION] = invocation.tool.description
        return self._tracer.start_span(
            f"{sc.EXECUTE_TOOL} {invocation.name}",
            context=self._parent(invocation.context.run_id),
            kind=self._trace.SpanKind.INTERNAL,
            attributes=attributes,
            start_time=start_time,
        )


class _ChatCall:
    """One `chat` span in flight: made current around each step, closed with the outcome."""

    def __init__(self, telemetry: OpenTelemetry, span: Any, metric: dict[str, Any]) -> None:
        self.telemetry = telemetry
        self.span = span
        self.metric = metric
        self.started = time.perf_counter()
        self.ended = False

    def current(self) -> Any:
        return self.telemetry._trace.use_span(
            self.span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        )

    def succeed(self, response: ModelResponse) -> None:
        span = self.span
        telemetry = self.telemetry
        usage = response.usage
        span.set_attributes(
            {sc.INPUT_TOKENS: usage.input_tokens, sc.OUTPUT_TOKENS: usage.output_tokens}
        )
        if response.model:
            span.set_attribute(sc.RESPONSE_MODEL, response.model)
        span.set_attribute(sc.FINISH_REASONS, [response.finish_reason or "stop"])
        if telemetry.capture_content:
            span.set_attribute(
                sc.OUTPUT_MESSAGES, sc.output_messages(response.message, response.finish_reason)
            )
        metric = dict(self.metric)
        if response.model:
            metric[sc.RESPONSE_MODEL] = response.model
        if usage.requests or usage.total_tokens:
            telemetry._tokens.record(usage.input_tokens, {**metric, sc.TOKEN_TYPE: "input"})
            telemetry._tokens.record(usage.output_tokens, {**metric, sc.TOKEN_TYPE: "output"})
        self._end(metric)

    def fail(self, exc: BaseException) -> None:
        error_type = getattr(exc, "error_type", None) or type(exc).__qualname__
        self.telemetry._fail(self.span, error_type, str(exc), exc)
        self._end({**self.metric, sc.ERROR_TYPE: error_type})

    def _end(self, metric: dict[str, Any]) -> None:
        if self.ended:
            return
        self.ended = True
        self.telemetry._duration.record(time.perf_counter() - self.started, metric)
        self.span.end()


class _TracedProvider(ProviderWrapper):
    """The provider face: every model call inside a `chat` span."""

    def __init__(self, inner: Provider, telemetry: OpenTelemetry) -> None:
        super().__init__(inner)
        self.telemetry = telemetry

    def complete(self, request: ModelRequest) -> ModelResponse:
        chat = self.telemetry.start_chat(self.inner, request)
        try:
            with chat.current():
                response = self.inner.complete(request)
        except BaseException as exc:
            chat.fail(exc)
            raise
        chat.succeed(response)
        return response

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        chat = self.telemetry.start_chat(self.inner, request)
        try:
            with chat.current():
                response = await self.inner.acomplete(request)
        except BaseException as exc:
            chat.fail(exc)
            raise
        chat.succeed(response)
        return response

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        chat = self.telemetry.start_chat(self.inner, request)
        items = iter(self.inner.stream(request))
        try:
            while True:
                with chat.current():  # current only while the provider works, never across yields
                    item = next(items, None)
                if item is None:
                    break
                if isinstance(item, ModelResponse):
                    chat.succeed(item)
                yield item
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):
                chat.fail(exc)
            raise
        finally:
            _close(items)
            chat._end(chat.metric)  # a stream the consumer left early

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        chat = self.telemetry.start_chat(self.inner, request)
        items = aiter(self.inner.astream(request))
        try:
            while True:
                with chat.current():
                    try:
                        item = await anext(items)
                    except StopAsyncIteration:
                        break
                if isinstance(item, ModelResponse):
                    chat.succeed(item)
                yield item
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):
                chat.fail(exc)
            raise
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()
            chat._end(chat.metric)


def _close(items: Iterator[Any]) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()
