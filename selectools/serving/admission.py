"""Who may start a run: per-caller rate limits and daily quotas, and what a run is charged.

Built from `ServingOptions` (`rate_limit`, `quota_tokens`, `quota_usd`,
`limits_storage`), once per distinct options, on `selectools.policies`'
`RateLimiter` and `Quota`: in this process, or in Redis shared by every
worker. A caller is its identity, or its client address without one. Each
run-starting request hits the rate limit once (a batch is one request); each
run checks the quota before it starts and is charged its real usage when it
ends. A streamed run stopped early (the client left, cancelled, or the run
failed) is charged what its model calls used so far; a failed run that was
not streamed is charged what it used when `max_iterations` or `run_timeout`
stopped it, other failures nothing.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..errors import MaxIterationsError, RunTimeoutError
from ..loop import AsyncRunEvents
from ..results import AgentResult
from ..usage import Usage
from .options import Caller, ServingOptions

if TYPE_CHECKING:
    from ..policies.quota import Quota
    from ..policies.ratelimit import RateLimiter

__all__ = ["Admission", "admission_for", "caller_key", "used_by", "used_so_far"]


def caller_key(caller: Caller) -> str:
    """Whom limits count: the identity, else the client address."""
    if caller.identity is not None:
        return f"id:{caller.identity}"
    return f"ip:{caller.address or 'unknown'}"


def _who(caller: Caller) -> str:
    return f"Caller '{caller.identity}'" if caller.identity is not None else "This client"


class Admission:
    """The limits of one `ServingOptions`; every method is a no-op for a limit not set."""

    def __init__(self, options: ServingOptions) -> None:
        storage = options.limits_storage
        namespace = options.limits_namespace
        self.limiter: RateLimiter | None = None
        self.quota: Quota | None = None
        if options.rate_limit is not None:  # the policies load only for a limit that is set
            from ..policies.ratelimit import RateLimiter

            self.limiter = RateLimiter(
                options.rate_limit, storage=storage, namespace=f"{namespace}:rate"
            )
        if options.quota_tokens is not None or options.quota_usd is not None:
            from ..policies.quota import Quota

            self.quota = Quota(
                tokens_per_day=options.quota_tokens,
                usd_per_day=options.quota_usd,
                storage=storage,
                namespace=f"{namespace}:quota",
            )

    def __bool__(self) -> bool:
        return self.limiter is not None or self.quota is not None

    async def arrive(self, caller: Caller) -> None:
        """Count one request against the rate limit (429 `rate_limited` when over)."""
        if self.limiter is not None:
            await self.limiter.acheck(caller_key(caller), who=_who(caller))

    def arrive_sync(self, caller: Caller) -> None:
        if self.limiter is not None:
            self.limiter.check(caller_key(caller), who=_who(caller))

    async def before_run(self, caller: Caller) -> None:
        """429 `quota_exceeded` once the caller's daily quota is used up."""
        if self.quota is not None:
            await self.quota.acheck(caller_key(caller))

    def before_run_sync(self, caller: Caller) -> None:
        if self.quota is not None:
            self.quota.check(caller_key(caller))

    async def after_run(self, caller: Caller, usage: Usage | None) -> None:
        if self.quota is not None and usage is not None:
            await self.quota.acharge(caller_key(caller), usage)

    def after_run_sync(self, caller: Caller, usage: Usage | None) -> None:
        if self.quota is not None and usage is not None:
            self.quota.charge(caller_key(caller), usage)


def used_by(exc: BaseException) -> Usage | None:
    """What a failed run is known to have used (its partial result's usage)."""
    if isinstance(exc, MaxIterationsError | RunTimeoutError) and isinstance(
        exc.partial, AgentResult
    ):
        return exc.partial.usage
    return None


def used_so_far(events: object, exc: BaseException | None = None) -> Usage | None:
    """What a streamed run cut short used: its events' `usage` (`Agent.astream` keeps
    it, also once stopped), else what its error says."""
    if isinstance(events, AsyncRunEvents):
        return events.usage
    return used_by(exc) if exc is not None else None


def admission_for(options: ServingOptions) -> Admission:
    """One `Admission` per distinct limits: its Redis clients and counters are reused.

    Keyed on the limit fields only: options that differ elsewhere (the WebSocket
    route serves with its own `on_disconnect`) share the same counters.
    """
    return _admission_of(
        options.rate_limit,
        options.quota_tokens,
        options.quota_usd,
        options.limits_storage,
        options.limits_namespace,
    )


@functools.lru_cache(maxsize=64)
def _admission_of(
    rate_limit: str | None,
    quota_tokens: int | None,
    quota_usd: float | None,
    limits_storage: str | None,
    limits_namespace: str,
) -> Admission:
    return Admission(
        ServingOptions(
            rate_limit=rate_limit,
            quota_tokens=quota_tokens,
            quota_usd=quota_usd,
            limits_storage=limits_storage,
            limits_namespace=limits_namespace,
        )
    )
