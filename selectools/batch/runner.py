"""`Agent.batch` / `abatch`: many independent runs, in order, bounded, resumable, with progress.

Each input is one run. Its outcome is its `AgentResult` or the exception
that ended it, so one failure never sinks the batch. A shared `RateLimiter`
makes the batch wait for its turn (instead of failing items), a `Quota`
fails the items that would go over the budget, and the agent's own policies
(retries, breaker, quota, caches) apply to every run as usual.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..results import AgentResult
from ..usage import Usage
from .checkpoint import Checkpoint, FileCheckpoint, fingerprint, result_from_record, result_record
from .pool import map_ordered
from .progress import BatchProgress, ProgressBar, ProgressCallback

if TYPE_CHECKING:
    from ..agent import Agent
    from ..config import AgentConfig
    from ..messages import RunInput
    from ..policies.quota import Quota
    from ..policies.ratelimit import RateLimiter

__all__ = ["BatchResults", "run_agent_batch"]


class BatchResults(list[AgentResult | Exception]):
    """The outcomes in input order: an `AgentResult` or the exception for each input."""

    @property
    def succeeded(self) -> list[AgentResult]:
        return [item for item in self if isinstance(item, AgentResult)]

    @property
    def errors(self) -> dict[int, Exception]:
        """Failed inputs by index."""
        return {i: item for i, item in enumerate(self) if not isinstance(item, AgentResult)}

    @property
    def usage(self) -> Usage:
        total = Usage()
        for result in self.succeeded:
            total = total + result.usage
        return total


async def run_agent_batch(
    agent: Agent,
    inputs: Iterable[RunInput],
    *,
    concurrency: int = 8,
    progress: bool | None = None,
    checkpoint: str | os.PathLike[str] | Checkpoint | None = None,
    rate_limit: RateLimiter | str | None = None,
    quota: Quota | None = None,
    identity: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    config: AgentConfig | Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> BatchResults:
    """See `Agent.abatch`."""
    items = list(inputs)
    store = _checkpoint(checkpoint)
    saved = store.load() if store is not None else {}
    keys = [fingerprint(item) for item in items] if store is not None else []
    limiter = _limiter(rate_limit)

    def resumed(index: int) -> AgentResult | None:
        record = saved.get(index)
        if record is None or record.get("key") != keys[index]:
            return None
        return result_from_record(record)

    state = BatchProgress(total=len(items))
    known = {i: r for i in range(len(items)) if (r := resumed(i)) is not None} if saved else {}
    state = dataclasses.replace(state, done=len(known), resumed=len(known))
    bar = ProgressBar(len(items), progress, initial=len(known))

    async def one(index: int, item: RunInput) -> AgentResult | Exception:
        nonlocal state
        outcome: AgentResult | Exception
        try:
            if limiter is not None:
                await _take_turn(limiter, identity)
            if quota is not None:
                await quota.acheck(identity)
            outcome = await agent.arun(item, identity=identity, metadata=metadata, config=config)
            if quota is not None:
                await quota.acharge(identity, outcome.usage)
            if store is not None:
                record = result_record(outcome, keys[index])
                await asyncio.to_thread(store.save, index, record)
        except Exception as exc:  # one input's failure is its outcome, not the batch's
            outcome = exc
        state = _after(state, outcome)
        bar.update(state)
        if on_progress is not None:
            answer = on_progress(state)
            if inspect.isawaitable(answer):
                await answer
        return outcome

    try:
        outcomes = await map_ordered(items, one, concurrency=concurrency, skip=known.get)
    finally:
        bar.close()
    return BatchResults(outcomes)


def _after(state: BatchProgress, outcome: AgentResult | Exception) -> BatchProgress:
    if isinstance(outcome, AgentResult):
        return dataclasses.replace(state, done=state.done + 1, usage=state.usage + outcome.usage)
    return dataclasses.replace(state, done=state.done + 1, failed=state.failed + 1)


def _checkpoint(value: str | os.PathLike[str] | Checkpoint | None) -> Checkpoint | None:
    if value is None or isinstance(value, Checkpoint):
        return value
    return FileCheckpoint(value)


def _limiter(value: RateLimiter | str | None) -> RateLimiter | None:
    if value is None or not isinstance(value, str):
        return value
    from ..policies.ratelimit import RateLimiter

    return RateLimiter(value, namespace="selectools:batch")


async def _take_turn(limiter: RateLimiter, identity: str | None) -> None:
    """Wait until the shared limit allows one more run (the batch slows down, items never fail)."""
    # the wait comes from counters that may live in Redis: there is no event to await
    while (wait := await limiter.ahit("batch", identity or "-")) is not None:  # noqa: ASYNC110
        await asyncio.sleep(max(wait, 0.01))
