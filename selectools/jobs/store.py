"""Where jobs live: the `JobStore` contract and the in-process store.

A store keeps each job's record, its state, its finished items (the first
write of an item wins, so a retried job never counts an item twice), its
events (numbered, for SSE), a cancel flag, a lease (one worker runs a job at
a time) and the step journal (write-tool results, see `journal`). Every
method is sync and thread-safe; async code calls them in a thread.
`RedisJobStore` shares all of it between web and Celery workers.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol, cast, runtime_checkable

from .record import JobRecord, JobState, JobStatus

__all__ = ["InMemoryJobStore", "JobEvent", "JobStore"]

JobEvent = tuple[int, str, dict[str, Any]]  # (sequence number, name, data)


@runtime_checkable
class JobStore(Protocol):
    def create(self, record: JobRecord) -> None: ...
    def record(self, job_id: str) -> JobRecord | None: ...
    def state(self, job_id: str) -> JobState | None: ...
    def set_status(self, job_id: str, status: str, error: str | None = None) -> None: ...
    def finish_item(self, job_id: str, index: int, item: Mapping[str, Any], ok: bool) -> bool:
        """Keep item `index`'s answer unless one is kept already; True when this one was."""
        ...

    def items(self, job_id: str) -> dict[int, dict[str, Any]]: ...
    def add_event(self, job_id: str, name: str, data: Mapping[str, Any]) -> int: ...
    def events(self, job_id: str, after: int = 0) -> list[JobEvent]: ...
    def request_cancel(self, job_id: str) -> None: ...
    def claim(self, job_id: str, holder: str, ttl: float) -> bool:
        """Take (or renew) the job's lease; False while another live holder has it."""
        ...

    def release(self, job_id: str, holder: str) -> None: ...
    def journal_get(self, job_id: str, key: str) -> str | None: ...
    def journal_put(self, job_id: str, key: str, output: str) -> None: ...


@dataclasses.dataclass
class _Job:
    record: JobRecord
    state: JobState
    items: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    events: list[JobEvent] = dataclasses.field(default_factory=list)
    journal: dict[str, str] = dataclasses.field(default_factory=dict)
    lease: tuple[str, float] | None = None


class InMemoryJobStore:
    """Jobs in this process's memory: gone when it stops, invisible to other workers."""

    def __init__(self) -> None:
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()

    def create(self, record: JobRecord) -> None:
        with self._lock:
            self._jobs[record.id] = _Job(record, JobState())

    def record(self, job_id: str) -> JobRecord | None:
        job = self._jobs.get(job_id)
        return job.record if job is not None else None

    def state(self, job_id: str) -> JobState | None:
        job = self._jobs.get(job_id)
        return job.state if job is not None else None

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self._lock:
            job = self._jobs[job_id]
            job.state = dataclasses.replace(
                job.state, status=cast(JobStatus, status), error=error, updated_at=time.time()
            )

    def finish_item(self, job_id: str, index: int, item: Mapping[str, Any], ok: bool) -> bool:
        with self._lock:
            job = self._jobs[job_id]
            if index in job.items:
                return False
            job.items[index] = dict(item)
            state = job.state
            job.state = dataclasses.replace(
                state, done=state.done + 1, failed=state.failed + (not ok), updated_at=time.time()
            )
            return True

    def items(self, job_id: str) -> dict[int, dict[str, Any]]:
        with self._lock:
            return dict(self._jobs[job_id].items)

    def add_event(self, job_id: str, name: str, data: Mapping[str, Any]) -> int:
        with self._lock:
            events = self._jobs[job_id].events
            events.append((len(events) + 1, name, dict(data)))
            return len(events)

    def events(self, job_id: str, after: int = 0) -> list[JobEvent]:
        with self._lock:
            return self._jobs[job_id].events[after:]

    def request_cancel(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            job.state = dataclasses.replace(job.state, cancel_requested=True)

    def claim(self, job_id: str, holder: str, ttl: float) -> bool:
        with self._lock:
            job = self._jobs[job_id]
            now = time.monotonic()
            if job.lease is not None and job.lease[0] != holder and job.lease[1] > now:
                return False
            job.lease = (holder, now + ttl)
            return True

    def release(self, job_id: str, holder: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            if job.lease is not None and job.lease[0] == holder:
                job.lease = None

    def journal_get(self, job_id: str, key: str) -> str | None:
        return self._jobs[job_id].journal.get(key)

    def journal_put(self, job_id: str, key: str, output: str) -> None:
        with self._lock:
            self._jobs[job_id].journal[key] = output
