"""The job routes' JSON bodies and SSE events, used by both adapters."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..serving.wire import BatchItem, InvokeRequest, MessageIn, RunOptions, SessionId
from .record import JobRecord, JobState

__all__ = ["JOB_ID_PATTERN", "JobProgress", "JobRequest", "JobResponse"]

JOB_ID_PATTERN = r"^[0-9a-f]{32}$"


class JobRequest(BaseModel):
    """Body of `POST /jobs`: one input (`input`, like `/invoke`) or many (`inputs`)."""

    model_config = ConfigDict(extra="forbid")

    input: str | list[MessageIn] | None = Field(
        default=None, description="One run: a prompt or chat messages."
    )
    session_id: SessionId | None = None
    config: RunOptions | None = None
    inputs: list[InvokeRequest] | None = Field(
        default=None, min_length=1, description="Several independent runs, like `/batch`."
    )
    timeout_seconds: float | None = Field(
        default=None, gt=0, description="Stop the job after this long (capped by the server)."
    )

    @model_validator(mode="after")
    def _one_or_many(self) -> JobRequest:
        if (self.input is None) == (self.inputs is None):
            raise ValueError("give either 'input' (one run) or 'inputs' (several), not both")
        if self.inputs is not None and (self.session_id or self.config):
            raise ValueError("with 'inputs', put 'session_id' and 'config' in each input")
        return self

    def requests(self) -> list[InvokeRequest]:
        if self.inputs is not None:
            return self.inputs
        assert self.input is not None
        return [InvokeRequest(input=self.input, session_id=self.session_id, config=self.config)]


class JobProgress(BaseModel):
    model_config = ConfigDict(defer_build=True)

    total: int
    done: int
    failed: int


class JobResponse(BaseModel):
    """A job's status, progress and the answers of its finished items (in input order)."""

    model_config = ConfigDict(defer_build=True)

    id: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
    progress: JobProgress
    created_at: float
    updated_at: float
    error: str | None = None
    cancel_requested: bool = False
    results: list[BatchItem]

    @classmethod
    def of(
        cls, record: JobRecord, state: JobState, items: dict[int, dict[str, Any]]
    ) -> JobResponse:
        return cls(
            id=record.id,
            status=state.status,
            progress=JobProgress(total=len(record.inputs), done=state.done, failed=state.failed),
            created_at=record.created_at,
            updated_at=state.updated_at,
            error=state.error,
            cancel_requested=state.cancel_requested,
            results=[BatchItem.model_validate(items[i]) for i in sorted(items)],
        )
