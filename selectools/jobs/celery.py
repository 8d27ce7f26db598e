"""Jobs as Celery tasks: web workers submit, Celery workers (any number, any machine) run them.

Web side: `Jobs(RedisJobStore(url), CeleryExecutor(celery_app))` sends one
task per job (only its id; the job itself is in the store, so any web worker
can answer for it). Worker side: `install_job_task(app, agent=..., store=...)`
registers the task, and `celery -A your.module worker` runs it (see
`examples/worker.py`).

Delivery: the task is acknowledged late (`acks_late`) and rejected back to
the queue if its worker process is lost (`task_reject_on_worker_lost`), so a
job whose worker was killed is delivered again (with Redis as the broker,
after the transport's `visibility_timeout`; `configure()` sets it). Running
it again is safe: the runner takes the job's lease (a second delivery waits
while a live worker holds it), skips finished items, and replays journaled
write-tool calls instead of repeating them. Per-job timeouts are the
runner's (`timeout_seconds`), so they hold in every pool (threads included).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

from ..agent import Agent
from ..bridge import run_coroutine_sync
from ..extras import require
from .runner import LEASE_SECONDS, JobBusyError, execute_job
from .store import JobStore

__all__ = ["TASK_NAME", "CeleryExecutor", "configure", "install_job_task"]

TASK_NAME = "selectools.run_job"
DEFAULT_QUEUE = "selectools-jobs"


class CeleryExecutor:
    """Sends each job to Celery workers; needs a store they share (`RedisJobStore`)."""

    def __init__(self, app: Any, *, queue: str = DEFAULT_QUEUE) -> None:
        require("celery", extra="celery", feature="CeleryExecutor")
        self.app = app
        self.queue = queue

    def __repr__(self) -> str:
        return f"CeleryExecutor(queue={self.queue!r})"

    def submit(self, agent: Agent, store: JobStore, job_id: str) -> None:
        # the worker has its own agent and reads the job from the store: only the id travels
        self.app.send_task(TASK_NAME, args=[job_id], queue=self.queue)


def configure(
    app: Any,
    *,
    visibility_timeout: float = 3600.0,
    restore_every: int = 10,
    queue: str = DEFAULT_QUEUE,
) -> None:
    """The settings job delivery relies on (call on both the web and the worker side).

    `visibility_timeout`: how long Redis waits before handing an unacknowledged
    job (its worker died) to another worker; keep it above your longest job
    unless the lease is all you rely on (a live holder makes a second delivery
    wait). `restore_every`: seconds between a worker's looks for such jobs
    (kombu's default, 10 s throttled tenfold, waits up to 100 s).
    """
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds only the jobs it runs
        task_default_queue=queue,
        broker_transport_options={
            "visibility_timeout": visibility_timeout,
            "unacked_restore_interval": restore_every,
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
    )


def install_job_task(
    app: Any,
    *,
    agent: Agent | Callable[[], Agent],
    store: JobStore,
    lease_seconds: float = LEASE_SECONDS,
) -> Any:
    """Register the job task on a worker's Celery app; returns the task."""
    require("celery", extra="celery", feature="install_job_task")
    holder_base = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    made: list[Agent] = []

    def the_agent() -> Agent:
        if isinstance(agent, Agent):
            return agent
        if not made:
            made.append(agent())
        return made[0]

    @app.task(  # type: ignore[untyped-decorator]
        name=TASK_NAME,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,
    )
    def run_job(task: Any, job_id: str) -> str | None:
        # one holder per execution: a redelivered message keeps its task id, and two
        # deliveries of one job in one process must not share the lease
        holder = f"{holder_base}:{task.request.id}:{uuid.uuid4().hex[:8]}"
        try:
            return run_coroutine_sync(
                execute_job(the_agent(), store, job_id, holder=holder, lease_seconds=lease_seconds)
            )
        except JobBusyError as exc:  # another live worker runs it: look again after its lease
            raise task.retry(countdown=lease_seconds, exc=exc) from None

    return run_job
