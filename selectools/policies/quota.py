"""Quota: per-identity token and cost budgets per day (UTC), shared by every worker.

A served agent checks the caller's quota before a run (429 `quota_exceeded`
once it is used up) and charges the run's real usage at its end. As an agent
policy (`Agent(policies=[Quota(...)])`) it checks before every model call and
charges each call's usage, so a run that crosses the budget stops at its next
model call. Counters live in the `limits` storage (this process, or Redis),
one per identity and day, expiring after the day; costs are counted in
micro-dollars. A call whose price is unknown (`cost_usd` None) charges tokens only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterator

from ..errors import QuotaExceededError
from ..frozen import record
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)
from ..usage import Usage
from .base import ProviderWrapper
from .ratelimit import CounterStorage

__all__ = ["Quota", "QuotaUse"]

logger = logging.getLogger("selectools.quota")

MICRO = 1_000_000


@record
class QuotaUse:
    """What an identity used today."""

    tokens: int
    usd: float


class Quota:
    """Daily budgets per identity: `tokens_per_day`, `usd_per_day` (either or both).

    Callers without an identity share one budget (the serving layer passes the
    client address instead).
    """

    def __init__(
        self,
        *,
        tokens_per_day: int | None = None,
        usd_per_day: float | None = None,
        storage: str | None = None,
        namespace: str = "selectools:quota",
    ) -> None:
        if tokens_per_day is None and usd_per_day is None:
            raise ValueError("Quota needs tokens_per_day, usd_per_day or both.")
        self.tokens_per_day = tokens_per_day
        self.usd_per_day = usd_per_day
        self.namespace = namespace
        self.storage = CounterStorage(storage, feature="Quota")

    def __repr__(self) -> str:
        return f"Quota(tokens_per_day={self.tokens_per_day}, usd_per_day={self.usd_per_day})"

    def wrap(self, provider: Provider) -> Provider:
        return _QuotaProvider(provider, self)

    # -- check before, charge after ------------------------------------------------

    def used(self, identity: str | None) -> QuotaUse:
        tokens_key, usd_key, _ = self._keys(identity)
        sync = self.storage.sync
        return QuotaUse(int(sync.get(tokens_key)), int(sync.get(usd_key)) / MICRO)

    async def aused(self, identity: str | None) -> QuotaUse:
        storage = self.storage.current()
        if storage is None:
            return self.used(identity)
        tokens_key, usd_key, _ = self._keys(identity)
        return QuotaUse(int(await storage.get(tokens_key)), int(await storage.get(usd_key)) / MICRO)

    def check(self, identity: str | None) -> None:
        """Raise QuotaExceededError (HTTP 429, Retry-After: next UTC midnight) when used up."""
        self._verdict(identity, self.used(identity))

    async def acheck(self, identity: str | None) -> None:
        self._verdict(identity, await self.aused(identity))

    def charge(self, identity: str | None, usage: Usage) -> None:
        """Add `usage` to today's counters of `identity`."""
        tokens_key, usd_key, expiry = self._keys(identity)
        tokens, micro_usd = self._amounts(usage)
        if tokens:
            self.storage.sync.incr(tokens_key, expiry, tokens)
        if micro_usd:
            self.storage.sync.incr(usd_key, expiry, micro_usd)

    async def acharge(self, identity: str | None, usage: Usage) -> None:
        storage = self.storage.current()
        if storage is None:
            self.charge(identity, usage)
            return
        tokens_key, usd_key, expiry = self._keys(identity)
        tokens, micro_usd = self._amounts(usage)
        if tokens:
            await storage.incr(tokens_key, expiry, tokens)
        if micro_usd:
            await storage.incr(usd_key, expiry, micro_usd)

    def _verdict(self, identity: str | None, use: QuotaUse) -> None:
        over = []
        if self.tokens_per_day is not None and use.tokens >= self.tokens_per_day:
            over.append(f"{use.tokens} of {self.tokens_per_day} tokens")
        if self.usd_per_day is not None and use.usd >= self.usd_per_day:
            over.append(f"${use.usd:.4f} of ${self.usd_per_day:g}")
        if over:
            wait = _seconds_to_midnight()
            raise QuotaExceededError(
                f"The daily quota of {identity or 'anonymous callers'} is used up "
                f"({' and '.join(over)}). It renews at 00:00 UTC, in {wait / 3600:.1f} h.",
                retry_after=wait,
            )

    def _amounts(self, usage: Usage) -> tuple[int, int]:
        if usage.cost_usd is None and self.usd_per_day is not None and usage.total_tokens:
            logger.warning("a model call has no known price; the cost quota cannot count it")
        micro_usd = round((usage.cost_usd or 0.0) * MICRO)
        return usage.total_tokens, micro_usd

    def _keys(self, identity: str | None) -> tuple[str, str, int]:
        day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
        base = f"{self.namespace}/{identity or '-'}/{day}"
        expiry = int(_seconds_to_midnight()) + 3600  # gone an hour after its day ends
        return f"{base}/tokens", f"{base}/micro_usd", expiry


def _seconds_to_midnight() -> float:
    now = dt.datetime.now(dt.UTC)
    tomorrow = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (tomorrow - now).total_seconds()


class _QuotaProvider(ProviderWrapper):
    def __init__(self, inner: Provider, quota: Quota) -> None:
        super().__init__(inner)
        self.quota = quota

    def complete(self, request: ModelRequest) -> ModelResponse:
        identity = request.identity
        self.quota.check(identity)
        response = self.inner.complete(request)
        self.quota.charge(identity, response.usage)
        return response

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        identity = request.identity
        await self.quota.acheck(identity)
        response = await self.inner.acomplete(request)
        await self.quota.acharge(identity, response.usage)
        return response

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        identity = request.identity
        self.quota.check(identity)
        items = self.inner.stream(request)
        try:
            for item in items:
                if isinstance(item, ModelResponse):
                    self.quota.charge(identity, item.usage)
                yield item
        finally:
            close_stream(items)

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        identity = request.identity
        await self.quota.acheck(identity)
        items = self.inner.astream(request)
        try:
            async for item in items:
                if isinstance(item, ModelResponse):
                    await self.quota.acharge(identity, item.usage)
                yield item
        finally:
            await aclose_stream(items)
