"""Where jobs run. `InProcessExecutor` (the default) runs them in this process.

In-process jobs survive nothing: a restart or a crash of this process ends
them (their state stays `running` in a shared store, and nobody resumes
them), and with the default `InMemoryJobStore` only this process knows
them. For jobs that outlive a process, or more work than one machine, use
`selectools.jobs.celery.CeleryExecutor` with a `RedisJobStore`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import uuid
from typing import Protocol, runtime_checkable

from ..agent import Agent
from ..bridge import _background_loop
from .runner import execute_job
from .store import JobStore

__all__ = ["InProcessExecutor", "JobExecutor"]

logger = logging.getLogger("selectools.jobs")


@runtime_checkable
class JobExecutor(Protocol):
    """Starts a stored job somewhere; the job's state lives in the store."""

    def submit(self, agent: Agent, store: JobStore, job_id: str) -> None: ...


class InProcessExecutor:
    """Jobs as tasks on selectools' background event loop (sync and async hosts alike).

    At most `max_running` jobs run at once; the others wait, `queued`, in
    submission order (a cancelled one never starts).
    """

    def __init__(self, *, max_running: int = 16) -> None:
        self.holder = f"process-{uuid.uuid4().hex[:8]}"
        self.max_running = max_running
        self._gate: asyncio.Semaphore | None = None  # made on the background loop
        self._running: dict[str, concurrent.futures.Future[str | None]] = {}
        self._lock = threading.Lock()

    def submit(self, agent: Agent, store: JobStore, job_id: str) -> None:
        coro = self._when_free(agent, store, job_id)
        future = asyncio.run_coroutine_threadsafe(coro, _background_loop())
        with self._lock:
            self._running[job_id] = future
        future.add_done_callback(lambda f: self._finished(job_id, f))

    async def _when_free(self, agent: Agent, store: JobStore, job_id: str) -> str | None:
        if self._gate is None:
            self._gate = asyncio.Semaphore(self.max_running)
        async with self._gate:
            return await execute_job(agent, store, job_id, holder=self.holder)

    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def _finished(self, job_id: str, future: concurrent.futures.Future[str | None]) -> None:
        with self._lock:
            self._running.pop(job_id, None)
        if not future.cancelled() and (exc := future.exception()) is not None:
            logger.error("job %s stopped on an internal error", job_id, exc_info=exc)
