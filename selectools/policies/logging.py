"""LogCalls: one structured log line per model call and per tool call.

The smallest policy with both faces, and a useful one: grep a server log for
what the model was asked and which tools ran, how long each took, and what
failed. Arguments and results are not logged unless asked (they may hold
personal data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from ..providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from .base import ProviderWrapper, ToolPolicy

__all__ = ["LogCalls"]


class LogCalls(ToolPolicy):
    """Log each model call and tool call to `logger` (default `selectools.calls`).

    Each record carries its facts as `extra` fields (`run_id`, `tool`,
    `duration_ms`, `ok`, `model`, `input_tokens`, ...) for JSON log formatters.

    Args:
        logger: where to log.
        level: the level of successful calls; failures log at WARNING.
        include_arguments: also log tool arguments (may contain personal data).
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.INFO,
        include_arguments: bool = False,
    ) -> None:
        self.logger = logger or logging.getLogger("selectools.calls")
        self.level = level
        self.include_arguments = include_arguments

    def wrap(self, provider: Provider) -> Provider:
        return _LoggedProvider(provider, self)

    def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> None:
        extra: dict[str, Any] = {
            "run_id": invocation.context.run_id,
            "session_id": invocation.context.session_id,
            "tool": record.name,
            "call_id": record.id,
            "duration_ms": round(record.duration_ms, 3),
            "ok": record.ok,
            "error_type": record.error_type,
        }
        if self.include_arguments:
            extra["arguments"] = dict(invocation.arguments)
        level = self.level if record.ok else logging.WARNING
        outcome = "ok" if record.ok else f"failed ({record.error_type})"
        self.logger.log(
            level,
            "tool %s %s in %.1f ms",
            record.name,
            outcome,
            record.duration_ms,
            extra=extra,
        )

    def log_model_call(
        self, request: ModelRequest, response: ModelResponse | None, started: float
    ) -> None:
        elapsed = (time.perf_counter() - started) * 1000
        extra = {
            "run_id": request.context.run_id if request.context else None,
            "model": response.model if response else None,
            "duration_ms": round(elapsed, 3),
            "ok": response is not None,
            "input_tokens": response.usage.input_tokens if response else None,
            "output_tokens": response.usage.output_tokens if response else None,
        }
        if response is None:
            self.logger.warning("model call failed after %.1f ms", elapsed, extra=extra)
        else:
            self.logger.log(
                self.level, "model %s answered in %.1f ms", response.model, elapsed, extra=extra
            )


class _LoggedProvider(ProviderWrapper):
    def __init__(self, inner: Provider, policy: LogCalls) -> None:
        super().__init__(inner)
        self.policy = policy

    def complete(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        response = None
        try:
            response = self.inner.complete(request)
            return response
        finally:
            self.policy.log_model_call(request, response, started)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        response = None
        try:
            response = await self.inner.acomplete(request)
            return response
        finally:
            self.policy.log_model_call(request, response, started)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        started = time.perf_counter()
        response = None
        items = self.inner.stream(request)
        try:
            for item in items:
                if isinstance(item, ModelResponse):
                    response = item
                yield item
        finally:
            close_stream(items)
            self.policy.log_model_call(request, response, started)

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        started = time.perf_counter()
        response = None
        items = self.inner.astream(request)
        try:
            async for item in items:
                if isinstance(item, ModelResponse):
                    response = item
                yield item
        finally:
            await aclose_stream(items)
            self.policy.log_model_call(request, response, started)
