"""Rate limits with the `limits` library: per caller for served agents, per tool for the model.

`RateLimiter("10/minute")` counts hits per key in a moving (or fixed)
window, in this process by default or in Redis (`storage="redis://..."`),
shared by every worker. The serving layer limits requests with it; listed in
`Agent(policies=[...])` it limits model calls per caller (the run's
identity): a call over the limit is not made, the run fails with
`RateLimitedError` (429 with Retry-After). The `ToolRateLimit` policy (also
`@tool(rate_limit="5/minute")`) limits a tool's calls and answers the model
with a tool error it can read, never an exception that fails the run.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

from ..errors import RateLimitedError
from ..extras import require
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
)
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from .base import BeforeTool, ProviderWrapper, ToolPolicy

__all__ = ["CounterStorage", "RateLimiter", "ToolRateLimit"]

Strategy = Literal["moving-window", "fixed-window"]


class CounterStorage:
    """A `limits` storage for sync code plus one async storage per event loop.

    In memory (`None` or "memory://") both paths share the one in-process
    storage (its operations never wait); a Redis URL gets a sync client and
    an async client per running loop (one made in an earlier `asyncio.run()`
    would fail in the next).
    """

    def __init__(self, url: str | None, *, feature: str) -> None:
        require("limits", extra="resilience", feature=feature)
        from limits.storage import storage_from_string

        self.url = url or "memory://"
        self.in_memory = self.url.startswith("memory://")
        if not self.in_memory:
            require("redis", extra="redis", feature=feature)
        self.sync: Any = storage_from_string(self.url)
        self._lock = threading.Lock()
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def current(self) -> Any:
        """The async storage of the running loop, or None in memory (use `sync`)."""
        if self.in_memory:
            return None
        loop = asyncio.get_running_loop()
        with self._lock:
            storage = self._async.get(loop)
            if storage is None:
                from limits.storage import storage_from_string

                storage = storage_from_string(f"async+{self.url}", implementation="redispy")
                self._async[loop] = storage
            return storage


class RateLimiter:
    """`limit` hits per key ("10/minute", "5/second;100/hour"), counted in `storage`.

    Args:
        limit: one or more limits in the `limits` notation, separated by ";".
        storage: None (this process) or a Redis URL shared by every worker.
        strategy: "moving-window" (exact, the default) or "fixed-window" (cheaper).
        namespace: the first part of every key, to keep limits of different uses apart.
    """

    def __init__(
        self,
        limit: str,
        *,
        storage: str | None = None,
        strategy: Strategy = "moving-window",
        namespace: str = "selectools",
    ) -> None:
        self.storage = CounterStorage(storage, feature="RateLimiter")
        from limits import parse_many, strategies

        self.limit = limit
        self.items = parse_many(limit)
        self.namespace = namespace
        self.strategy = strategy
        kind = strategies.STRATEGIES[strategy]
        self._limiter = kind(self.storage.sync)
        self._async_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"RateLimiter({self.limit!r}, strategy={self.strategy!r})"

    def hit(self, *key: str) -> float | None:
        """Count one hit for `key`: None when allowed, else seconds until one would be."""
        for item in self.items:
            if not self._limiter.hit(item, self.namespace, *key):
                stats = self._limiter.get_window_stats(item, self.namespace, *key)
                return _wait(stats.reset_time)
        return None

    async def ahit(self, *key: str) -> float | None:
        limiter = self._async_limiter()
        if limiter is None:
            return self.hit(*key)
        for item in self.items:
            if not await limiter.hit(item, self.namespace, *key):
                stats = await limiter.get_window_stats(item, self.namespace, *key)
                return _wait(stats.reset_time)
        return None

    def check(self, *key: str, who: str = "This caller") -> None:
        """`hit`, raising RateLimitedError (HTTP 429 with Retry-After) when over the limit."""
        wait = self.hit(*key)
        if wait is not None:
            raise self.refusal(who, wait)

    async def acheck(self, *key: str, who: str = "This caller") -> None:
        wait = await self.ahit(*key)
        if wait is not None:
            raise self.refusal(who, wait)

    def wrap(self, provider: Provider) -> Provider:
        """As an agent policy: model calls per caller (see the module docstring)."""
        return _RateLimitedProvider(provider, self)

    def refusal(self, who: str, wait: float) -> RateLimitedError:
        return RateLimitedError(
            f"{who} went over the rate limit of {self.limit}. Retry in {wait:.0f} s.",
            retry_after=wait,
        )

    def _async_limiter(self) -> Any:
        storage = self.storage.current()
        if storage is None:
            return None
        loop = asyncio.get_running_loop()
        limiter = self._async_limiters.get(loop)
        if limiter is None:
            from limits.aio import strategies

            kinds: dict[str, Any] = strategies.STRATEGIES
            limiter = kinds[self.strategy](storage)
            self._async_limiters[loop] = limiter
        return limiter


def _wait(reset_time: float) -> float:
    return max(0.0, reset_time - time.time())


class _RateLimitedProvider(ProviderWrapper):
    """Counts each model call against the limiter, keyed by the run's identity."""

    def __init__(self, inner: Provider, limiter: RateLimiter) -> None:
        super().__init__(inner)
        self.limiter = limiter

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.limiter.check(*_caller(request))
        return self.inner.complete(request)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        await self.limiter.acheck(*_caller(request))
        return await self.inner.acomplete(request)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        self.limiter.check(*_caller(request))
        return self.inner.stream(request)

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        await self.limiter.acheck(*_caller(request))
        items = self.inner.astream(request)
        try:
            async for item in items:
                yield item
        finally:
            await aclose_stream(items)


def _caller(request: ModelRequest) -> tuple[str, str]:
    return "model", request.identity or "-"


class ToolRateLimit(ToolPolicy):
    """At most `limit` calls of each tool; over it the model reads why and when to retry.

    Counted per tool for all callers (the API behind the tool has one limit),
    or per tool and caller identity with `per_identity=True`. As an agent
    policy it limits every tool separately; `@tool(rate_limit=...)` puts one
    on a single tool.
    """

    def __init__(
        self,
        limit: str,
        *,
        per_identity: bool = False,
        storage: str | None = None,
        strategy: Strategy = "moving-window",
        namespace: str = "selectools:tool",
    ) -> None:
        self.limiter = RateLimiter(limit, storage=storage, strategy=strategy, namespace=namespace)
        self.per_identity = per_identity

    def __repr__(self) -> str:
        return f"ToolRateLimit({self.limiter.limit!r}, per_identity={self.per_identity})"

    def before_tool(self, invocation: ToolInvocation) -> Any:
        key = self._key(invocation)
        if self.limiter.storage.in_memory:
            return self._verdict(invocation, self.limiter.hit(*key))
        return self._abefore(invocation, key)

    async def _abefore(self, invocation: ToolInvocation, key: tuple[str, ...]) -> BeforeTool:
        return self._verdict(invocation, await self.limiter.ahit(*key))

    def _key(self, invocation: ToolInvocation) -> tuple[str, ...]:
        if self.per_identity:
            return (invocation.name, invocation.context.identity or "")
        return (invocation.name,)

    def _verdict(self, invocation: ToolInvocation, wait: float | None) -> ToolCallRecord | None:
        if wait is None:
            return None
        return invocation.refuse(
            f"Tool '{invocation.name}' is rate limited ({self.limiter.limit}) and was not "
            f"called; it can be called again in {wait:.0f} s. Continue without it, or tell "
            f"the user to try again later.",
            error_type="rate_limited",
        )
