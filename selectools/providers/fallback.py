"""FallbackProvider: ask providers in order; when one is unavailable, the next one answers."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import replace

from ..errors import ContextLengthError, ProviderError, ProviderUnavailableError
from .base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)

__all__ = ["FallbackProvider", "falls_back_on"]

logger = logging.getLogger("selectools.fallback")


def falls_back_on(exc: BaseException) -> bool:
    """Whether another provider may answer: the failure is this provider's, not the request's.

    Outages, rate limits, timeouts, a bad key or a missing model on one server
    fall back; bad input (400, 422) and a context-length error would fail
    everywhere, so they are raised at once.
    """
    if isinstance(exc, ContextLengthError) or not isinstance(exc, ProviderError):
        return False
    return exc.status_code not in (400, 422)


class FallbackProvider:
    """Providers in order of preference: each call goes to the first that answers.

    `FallbackProvider(primary, backup)` or `FallbackProvider([a, b, c])`. A
    provider is skipped when it fails with an availability error (see
    `falls_back_on`), also mid-stream as long as it has sent no text yet.
    `policies` wrap each provider on its own, e.g. `[CircuitBreaker()]` so a
    provider that keeps failing is skipped without a request. The answer's
    `ModelResponse.provider` (and `AgentResult.provider`) names who answered,
    and its usage is priced at that provider's model. When every provider
    fails, `ProviderUnavailableError` (HTTP 503) carries each failure and a
    `retry_after`: the soonest one a provider gave, else `retry_after` here.
    """

    def __init__(
        self,
        *providers: Provider | Sequence[Provider],
        policies: Iterable[object] = (),
        retry_after: float = 30.0,
        name: str = "fallback",
    ) -> None:
        from ..policies.base import compose_provider

        members: list[Provider] = []
        for item in providers:
            members.extend([item] if isinstance(item, Provider) else item)
        if not members:
            raise ValueError("FallbackProvider needs at least one provider.")
        chosen = tuple(policies)
        self.providers: tuple[Provider, ...] = tuple(
            compose_provider(member, chosen) for member in members
        )
        self.retry_after = retry_after
        self.name = name

    @property
    def model(self) -> str:
        return self.providers[0].model

    def __repr__(self) -> str:
        return f"FallbackProvider({', '.join(repr(p) for p in self.providers)})"

    def complete(self, request: ModelRequest) -> ModelResponse:
        attempts = _Attempts(self, request)
        for provider in self.providers:
            try:
                return _labelled(provider.complete(attempts.request()), provider)
            except Exception as exc:
                attempts.failed(provider, exc)
        raise attempts.unavailable()

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        attempts = _Attempts(self, request)
        for provider in self.providers:
            try:
                return _labelled(await provider.acomplete(attempts.request()), provider)
            except Exception as exc:
                attempts.failed(provider, exc)
        raise attempts.unavailable()

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        attempts = _Attempts(self, request)
        for provider in self.providers:
            items = iter(provider.stream(attempts.request()))
            emitted = False
            try:
                for item in items:
                    emitted = emitted or isinstance(item, TextChunk)
                    yield _labelled(item, provider) if isinstance(item, ModelResponse) else item
                return
            except Exception as exc:
                if emitted:  # the client has seen this provider's text: no second answer
                    raise
                attempts.failed(provider, exc)
            finally:
                close_stream(items)
        raise attempts.unavailable()

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        attempts = _Attempts(self, request)
        for provider in self.providers:
            items = aiter(provider.astream(attempts.request()))
            emitted = False
            try:
                async for item in items:
                    emitted = emitted or isinstance(item, TextChunk)
                    yield _labelled(item, provider) if isinstance(item, ModelResponse) else item
                return
            except Exception as exc:
                if emitted:
                    raise
                attempts.failed(provider, exc)
            finally:
                await aclose_stream(items)
        raise attempts.unavailable()


def _labelled(response: ModelResponse, provider: Provider) -> ModelResponse:
    return response if response.provider else replace(response, provider=provider.name)


class _Attempts:
    """The failures of one call so far, and the time it has left."""

    def __init__(self, owner: FallbackProvider, request: ModelRequest) -> None:
        self.owner = owner
        self.original = request
        self.deadline = None if request.timeout is None else time.monotonic() + request.timeout
        self.errors: list[Exception] = []
        self.names: list[str] = []

    def request(self) -> ModelRequest:
        if self.deadline is None:
            return self.original
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.unavailable()
        return replace(self.original, timeout=left)

    def failed(self, provider: Provider, exc: Exception) -> None:
        """Note a fallback-worthy failure; anything else is raised as it is."""
        if not falls_back_on(exc):
            raise exc
        self.errors.append(exc)
        self.names.append(provider.name)
        logger.warning(
            "provider %s failed (%s); trying the next one", provider.name, _describe(exc)
        )

    def unavailable(self) -> ProviderUnavailableError:
        waits = [
            float(wait)
            for wait in (getattr(e, "retry_after", None) for e in self.errors)
            if wait is not None
        ]
        retry_after = min(waits) if waits else self.owner.retry_after
        tried = ", ".join(
            f"{name} ({_describe(e)})" for name, e in zip(self.names, self.errors, strict=True)
        )
        error = ProviderUnavailableError(
            f"No model provider could answer: {tried or 'none was tried in time'}. "
            f"Retry in {retry_after:g} s.",
            provider=self.owner.name,
            retry_after=retry_after,
            errors=self.errors,
        )
        if self.errors:
            error.__cause__ = self.errors[-1]
        return error


def _describe(exc: BaseException) -> str:
    """Our words for a failure (never the upstream's text, which may carry account details)."""
    status = getattr(exc, "status_code", None)
    kind = getattr(exc, "error_type", type(exc).__name__)
    return f"{kind}, HTTP {status}" if status is not None else str(kind)
