"""Retry: the one layer that retries a provider call, bounded in attempts and in total time.

Exponential backoff with full jitter (tenacity), never shorter than the
provider's `Retry-After`; only transient failures are retried (rate limits,
timeouts, lost connections, 5xx), never bad input, auth or context length. The
whole call, waits included, fits in `max_time` and in the run's time left
(`ModelRequest.timeout`); each attempt gets only the time that remains, so a
hanging server cannot stretch it. A stream is retried only until its first
item: text already shown is never repeated.

`OpenAIProvider` retries with this class by default and switches the openai
SDK's own retries off, so exactly one layer retries. Put `Retry()` in an
agent's policies for providers that do not retry themselves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

from ..errors import (
    ContextLengthError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitError,
)
from ..extras import require
from ..frozen import record
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)
from .base import ProviderWrapper

__all__ = ["Retry", "RetryScheduled", "is_transient"]

logger = logging.getLogger("selectools.retry")

Item = TextChunk | ModelResponse


def is_transient(exc: BaseException) -> bool:
    """Whether another try may succeed: rate limits, timeouts, lost connections, 5xx, 408, 409.

    Never bad input (400), auth (401/403), a missing model (404), a context
    length error or a used-up account quota; nor a provider switched off by a
    circuit breaker (asking again at once cannot help).
    """
    if isinstance(exc, ProviderUnavailableError | ProviderAuthError | ContextLengthError):
        return False
    if isinstance(exc, RateLimitError | ProviderTimeoutError | ProviderConnectionError):
        return True
    if isinstance(exc, ProviderError) and exc.status_code is not None:
        return exc.status_code >= 500 or exc.status_code in (408, 409)
    return False


@record
class RetryScheduled:
    """For `on_retry`: attempt number `attempt` failed with `error`; the next in `wait` s."""

    provider: str
    attempt: int
    wait: float
    error: BaseException


class Retry:
    """Retry transient provider failures with backoff and jitter, within a time budget.

    Args:
        attempts: most calls in all (the first one included); 1 never retries.
        max_time: most seconds for all attempts and waits together; the run's
            time left (`ModelRequest.timeout`) bounds it further.
        initial_wait: the first backoff window in seconds; it doubles per retry.
        max_wait: the largest backoff window (a longer `Retry-After` still wins,
            if it fits in the time left; otherwise the call gives up at once).
        on_retry: called with a `RetryScheduled` before each wait (metrics, logs).
    """

    def __init__(
        self,
        attempts: int = 3,
        *,
        max_time: float = 120.0,
        initial_wait: float = 0.5,
        max_wait: float = 8.0,
        on_retry: Callable[[RetryScheduled], object] | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"Retry(attempts={attempts}) must be at least 1.")
        if max_time <= 0 or initial_wait < 0 or max_wait < 0:
            raise ValueError("Retry needs max_time > 0 and waits >= 0.")
        self.attempts = attempts
        self.max_time = max_time
        self.initial_wait = initial_wait
        self.max_wait = max_wait
        self.on_retry = on_retry

    def __repr__(self) -> str:
        return f"Retry(attempts={self.attempts}, max_time={self.max_time:g})"

    def wrap(self, provider: Provider) -> Provider:
        if _retries_itself(provider):
            raise ValueError(
                f"{provider!r} already retries its calls; a second retry layer would multiply "
                f"attempts and ignore the time bound. Configure retries on the provider "
                f"(e.g. OpenAIProvider(retry=Retry(...))) or turn them off there "
                f"(OpenAIProvider(max_retries=0)) and keep this policy."
            )
        return _RetryingProvider(provider, self)

    # -- the four call shapes, for any function that makes one attempt ----------------

    def call(
        self, attempt: Callable[[ModelRequest], ModelResponse], request: ModelRequest, name: str
    ) -> ModelResponse:
        budget = _Budget(self, request)
        for state in self._retrying(budget, name, sync=True):
            with state:
                return attempt(budget.request())
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    async def acall(
        self,
        attempt: Callable[[ModelRequest], Awaitable[ModelResponse]],
        request: ModelRequest,
        name: str,
    ) -> ModelResponse:
        budget = _Budget(self, request)
        async for state in self._retrying(budget, name, sync=False):
            with state:
                return await attempt(budget.request())
        raise AssertionError("unreachable: tenacity returns or raises")  # pragma: no cover

    def stream(
        self, attempt: Callable[[ModelRequest], Iterator[Item]], request: ModelRequest, name: str
    ) -> Iterator[Item]:
        budget = _Budget(self, request)
        items: Iterator[Item] = iter(())
        first: Item | None = None
        for state in self._retrying(budget, name, sync=True):
            with state:
                items = iter(attempt(budget.request()))
                try:
                    first = next(items, None)
                except BaseException:
                    close_stream(items)
                    raise
        try:
            if first is None:
                return
            yield first
            yield from items
        finally:
            close_stream(items)

    async def astream(
        self,
        attempt: Callable[[ModelRequest], AsyncIterator[Item]],
        request: ModelRequest,
        name: str,
    ) -> AsyncIterator[Item]:
        budget = _Budget(self, request)
        items: AsyncIterator[Item] = _empty()
        first: Item | None = None
        async for state in self._retrying(budget, name, sync=False):
            with state:
                items = aiter(attempt(budget.request()))
                try:
                    first = await anext(items, None)
                except BaseException:
                    await aclose_stream(items)
                    raise
        try:
            if first is None:
                return
            yield first
            async for item in items:
                yield item
        finally:
            await aclose_stream(items)

    # -- tenacity ---------------------------------------------------------------------

    def _retrying(self, budget: _Budget, name: str, *, sync: bool) -> Any:
        tenacity = require("tenacity", extra="resilience", feature="Retry")
        backoff = tenacity.wait_random_exponential(multiplier=self.initial_wait, max=self.max_wait)

        def wait(state: Any) -> float:
            error = state.outcome.exception()
            delay = float(backoff(state))
            retry_after = getattr(error, "retry_after", None)
            return max(delay, float(retry_after)) if retry_after is not None else delay

        def before_sleep(state: Any) -> None:
            error = state.outcome.exception()
            event = RetryScheduled(name, state.attempt_number, state.upcoming_sleep, error)
            logger.info(
                "provider %s failed (%s), attempt %d of %d; retrying in %.2f s",
                name,
                type(error).__name__,
                state.attempt_number,
                self.attempts,
                state.upcoming_sleep,
            )
            if self.on_retry is not None:
                self.on_retry(event)

        kind = tenacity.Retrying if sync else tenacity.AsyncRetrying
        return kind(
            stop=tenacity.stop_after_attempt(self.attempts)
            | tenacity.stop_before_delay(budget.seconds),
            wait=wait,
            retry=tenacity.retry_if_exception(is_transient),
            before_sleep=before_sleep,
            reraise=True,
        )


class _Budget:
    """The time one call may take, and each attempt's share of what is left."""

    def __init__(self, policy: Retry, request: ModelRequest) -> None:
        self.seconds = policy.max_time
        if request.timeout is not None:
            self.seconds = min(self.seconds, request.timeout)
        self.deadline = time.monotonic() + self.seconds
        self.original = request

    def request(self) -> ModelRequest:
        """The request for the next attempt: its timeout is the time left (providers may
        cap it lower with their own per-call timeout)."""
        return replace(self.original, timeout=max(0.001, self.deadline - time.monotonic()))


async def _empty() -> AsyncIterator[Item]:
    return
    yield  # pragma: no cover


def _retries_itself(provider: Provider) -> bool:
    seen: Provider | None = provider
    while seen is not None:
        if getattr(seen, "retry", None) is not None:
            return True
        seen = getattr(seen, "inner", None)
    return False


class _RetryingProvider(ProviderWrapper):
    def __init__(self, inner: Provider, policy: Retry) -> None:
        super().__init__(inner)
        self.retry = policy
        self.policy = policy

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self.policy.call(self.inner.complete, request, self.name)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        return await self.policy.acall(self.inner.acomplete, request, self.name)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        return self.policy.stream(self.inner.stream, request, self.name)

    def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        return self.policy.astream(self.inner.astream, request, self.name)
