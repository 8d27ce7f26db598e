"""`Jobs`: the store, the executor and the limits of a mounted agent's job routes."""

from __future__ import annotations

from .executors import InProcessExecutor, JobExecutor
from .store import InMemoryJobStore, JobStore

__all__ = ["Jobs"]


class Jobs:
    """Background jobs for `AgentRouter(jobs=...)` and `Selectools(jobs=...)`.

    The default runs jobs in this process and keeps them in its memory: they
    survive nothing (a restart loses them; other workers do not see them).
    Across processes: `Jobs(RedisJobStore(url), CeleryExecutor(celery_app))`.

    Args:
        store: where jobs live (`InMemoryJobStore`, `RedisJobStore`).
        executor: where they run (`InProcessExecutor`, `CeleryExecutor`).
        max_inputs: most inputs one job may carry (more gets 413).
        max_timeout: the longest a job may run, in seconds; a job asking for
            more (or nothing) gets this.
        concurrency: how many of a job's inputs run at once.
        poll_seconds: how often an SSE stream looks for new events.
    """

    def __init__(
        self,
        store: JobStore | None = None,
        executor: JobExecutor | None = None,
        *,
        max_inputs: int = 1000,
        max_timeout: float = 3600.0,
        concurrency: int = 4,
        poll_seconds: float = 0.2,
    ) -> None:
        self.store = store if store is not None else InMemoryJobStore()
        self.executor = executor if executor is not None else InProcessExecutor()
        self.max_inputs = max_inputs
        self.max_timeout = max_timeout
        self.concurrency = concurrency
        self.poll_seconds = poll_seconds

    def __repr__(self) -> str:
        return f"Jobs(store={self.store!r}, executor={self.executor!r})"
