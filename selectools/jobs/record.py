"""What a job is: its inputs and owner (fixed at submission) and its state (changing)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, field
from typing import Any, Literal

from ..frozen import record

__all__ = ["TERMINAL", "JobRecord", "JobState", "JobStatus", "new_job_id"]

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


def new_job_id() -> str:
    """Unguessable: a job id is also what a client holds to read its results."""
    return uuid.uuid4().hex


@record
class JobRecord:
    """Fixed at submission. `inputs` are `InvokeRequest` bodies as JSON-ready dicts."""

    id: str
    owner: str | None
    inputs: tuple[Mapping[str, Any], ...]
    timeout: float | None = None
    concurrency: int = 4
    metadata: Mapping[str, Any] | None = None
    created_at: float = field(default_factory=time.time)
    quota: Mapping[str, Any] | None = None  # the submitter's quota, see `charging`

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["inputs"] = [dict(i) for i in self.inputs]
        data["metadata"] = dict(self.metadata) if self.metadata is not None else None
        data["quota"] = dict(self.quota) if self.quota is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobRecord:
        return cls(
            id=data["id"],
            owner=data["owner"],
            inputs=tuple(data["inputs"]),
            timeout=data["timeout"],
            concurrency=data["concurrency"],
            metadata=data.get("metadata"),
            created_at=data["created_at"],
            quota=data.get("quota"),
        )


@record
class JobState:
    """Where a job is now; `done` counts finished items, `failed` those that failed."""

    status: JobStatus = "queued"
    done: int = 0
    failed: int = 0
    error: str | None = None
    updated_at: float = field(default_factory=time.time)
    cancel_requested: bool = False

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL
