"""Running one job, wherever it runs (this process or a Celery worker): the same steps.

Take the job's lease (one runner at a time), skip it if it already ended or
was cancelled, run the items not finished yet through the batch pool (each
item's answer kept the first time, with its write-tool calls journaled),
watch for a cancel request and renew the lease while it runs, stop at the
job's timeout, and end in one terminal state with a last event.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..agent import Agent
from ..batch.pool import map_ordered
from ..serving.admission import used_by
from ..serving.errors import error_answer
from ..serving.wire import BatchItem, ErrorDetail, InvokeRequest, InvokeResponse
from .charging import quota_for
from .journal import StepJournal, StepScope, current_step
from .record import JobRecord
from .store import JobStore

__all__ = ["JobBusyError", "execute_job"]

logger = logging.getLogger("selectools.jobs")

LEASE_SECONDS = 10.0
WATCH_SECONDS = 0.2


class JobBusyError(RuntimeError):
    """Another live runner holds the job's lease; try again after it expires."""


async def execute_job(
    agent: Agent,
    store: JobStore,
    job_id: str,
    *,
    holder: str,
    lease_seconds: float = LEASE_SECONDS,
    watch_seconds: float = WATCH_SECONDS,
) -> str | None:
    """Run job `job_id` to a terminal state; returns it (None for an unknown job)."""
    record = await asyncio.to_thread(store.record, job_id)
    state = await asyncio.to_thread(store.state, job_id)
    if record is None or state is None:
        logger.warning("job %s is not in the store (expired?)", job_id)
        return None
    if state.terminal:
        return state.status  # a redelivered task for a job that ended: nothing to do
    if not await asyncio.to_thread(store.claim, job_id, holder, lease_seconds):
        raise JobBusyError(f"Job {job_id} is being run by another worker.")
    try:
        state = await asyncio.to_thread(store.state, job_id)
        if state is None or state.terminal:  # it ended between our first look and the lease
            return state.status if state is not None else None
        return await _run(agent, store, record, holder, lease_seconds, watch_seconds)
    finally:
        await asyncio.to_thread(store.release, job_id, holder)


async def _run(
    agent: Agent,
    store: JobStore,
    record: JobRecord,
    holder: str,
    lease_seconds: float,
    watch_seconds: float,
) -> str:
    job_id = record.id

    def tell(name: str, data: Mapping[str, Any]) -> int:
        return store.add_event(job_id, name, data)

    state = await asyncio.to_thread(store.state, job_id)
    if state is not None and state.cancel_requested:
        return await _end(store, job_id, "cancelled", None, tell)
    await asyncio.to_thread(store.set_status, job_id, "running")
    await asyncio.to_thread(tell, "job_started", {"total": len(record.inputs)})
    journaled = _with_journal(agent)
    finished = await asyncio.to_thread(store.items, job_id)

    async def one(index: int, raw: Mapping[str, Any]) -> bool:
        item = _answer(index, await _run_item(journaled, store, record, index, raw, tell))
        if await asyncio.to_thread(store.finish_item, job_id, index, item, item["status"] == 200):
            await asyncio.to_thread(tell, "item_finished", {"index": index, **_brief(item)})
        return True

    items = list(record.inputs)
    work = asyncio.ensure_future(
        map_ordered(items, one, concurrency=record.concurrency, skip=_skip(finished))
    )
    cancelled = asyncio.ensure_future(_watch(store, job_id, holder, lease_seconds, watch_seconds))
    try:
        async with asyncio.timeout(record.timeout):
            await asyncio.wait({work, cancelled}, return_when=asyncio.FIRST_COMPLETED)
    except TimeoutError:
        work.cancel()
        await _settle(work)
        return await _end(store, job_id, "timed_out", f"over {record.timeout:g} s", tell)
    finally:
        cancelled.cancel()
        await _settle(cancelled)
    if not work.done():  # the watcher saw a cancel request
        work.cancel()
        await _settle(work)
        return await _end(store, job_id, "cancelled", None, tell)
    if (exc := work.exception()) is not None:
        logger.error("job %s failed", job_id, exc_info=exc)
        return await _end(store, job_id, "failed", "the job stopped on an internal error", tell)
    return await _end(store, job_id, "succeeded", None, tell)


async def _run_item(
    agent: Agent,
    store: JobStore,
    record: JobRecord,
    index: int,
    raw: Mapping[str, Any],
    tell: Any,
) -> Any:
    """One input's run: its result, or the exception that ended it."""
    token = current_step.set(StepScope(store, record.id, index, on_event=tell))
    charge = quota_for(record.quota)
    try:
        body = InvokeRequest.model_validate(raw)
        overrides = body.config.overrides(agent.config.max_iterations) if body.config else None
        if charge is not None:
            await charge[0].acheck(charge[1])
        result = await agent.arun(
            body.run_input(),
            session_id=body.session_id,
            identity=record.owner,
            metadata=record.metadata,
            config=overrides,
            output_type=body.output_schema,
        )
    except Exception as exc:  # one input's failure is its answer
        if charge is not None and (used := used_by(exc)) is not None:
            await charge[0].acharge(charge[1], used)
        return exc
    finally:
        current_step.reset(token)
    if charge is not None:
        await charge[0].acharge(charge[1], result.usage)
    return result


def _answer(index: int, outcome: Any) -> dict[str, Any]:
    if isinstance(outcome, Exception):
        status, error, _ = error_answer(outcome)
        item = BatchItem(index=index, status=status, error=ErrorDetail(**error["error"]))
    else:
        item = BatchItem(index=index, status=200, result=InvokeResponse.of(outcome))
    return item.model_dump(mode="json")


def _brief(item: Mapping[str, Any]) -> dict[str, Any]:
    if item["status"] == 200:
        return {"status": 200, "output": item["result"]["output"]}
    return {"status": item["status"], "error": item["error"]}


def _skip(finished: Mapping[int, Any]) -> Callable[[int], bool | None]:
    def known(index: int) -> bool | None:
        return True if index in finished else None

    return known


def _with_journal(agent: Agent) -> Agent:
    """The same agent, its write tools journaled (outermost, so a replay skips every policy)."""
    clone = copy.copy(agent)
    clone._tool_policies = (StepJournal(), *agent._tool_policies)
    return clone


async def _watch(
    store: JobStore, job_id: str, holder: str, lease_seconds: float, every: float
) -> None:
    """Returns when a cancel is requested; renews the lease meanwhile."""
    renew_every = max(1, int(lease_seconds / 3 / every))
    ticks = 0
    while True:
        state = await asyncio.to_thread(store.state, job_id)
        if state is None or state.cancel_requested:
            return
        ticks += 1
        if ticks % renew_every == 0:
            await asyncio.to_thread(store.claim, job_id, holder, lease_seconds)
        await asyncio.sleep(every)


async def _settle(task: asyncio.Future[Any]) -> None:
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _end(store: JobStore, job_id: str, status: str, error: str | None, tell: Any) -> str:
    await asyncio.to_thread(store.set_status, job_id, status, error)
    await asyncio.to_thread(tell, "job_finished", {"status": status, "error": error})
    return status
