"""Typed run events: what `stream()` yields, observers receive, and adapters put on the wire.

A stream is: RunStarted, then any number of TextDelta / ToolCallStarted /
ToolProgress / ToolCallFinished, then exactly one RunFinished (or RunFailed on
the wire). A call's ToolProgress events (what a generator tool yields) come
after its ToolCallStarted and before its ToolCallFinished. A run that stops
for a person's approval ends with ApprovalRequested then RunFinished (its
result's status "awaiting_approval"); resuming it starts with RunStarted and
one ApprovalDecided per call.
RunFinished carries the whole result, including the full text: a client that
renders the TextDeltas must not append `RunFinished.result.text` again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeAlias

from .errors import SelectoolsError
from .frozen import record
from .providers.base import ModelRequest, ModelResponse
from .results import AgentResult, PendingCall, ToolCallRecord

__all__ = [
    "ApprovalDecided",
    "ApprovalRequested",
    "Event",
    "ModelCallFinished",
    "ModelCallStarted",
    "RunFailed",
    "RunFinished",
    "RunStarted",
    "TextDelta",
    "ToolCallFinished",
    "ToolCallStarted",
    "ToolProgress",
    "event_hook",
]


@record
class RunStarted:
    """A run began (or resumed after an approval)."""

    type: ClassVar[Literal["run_started"]] = "run_started"
    run_id: str
    session_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "run_id": self.run_id, "session_id": self.session_id}


@record
class TextDelta:
    """A piece of the model's answer as it streams in."""

    type: ClassVar[Literal["text_delta"]] = "text_delta"
    run_id: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "run_id": self.run_id, "text": self.text}


@record
class ToolCallStarted:
    """A tool call is about to run; `arguments` is None for a call refused before running
    (an unknown tool, arguments that do not validate)."""

    type: ClassVar[Literal["tool_call_started"]] = "tool_call_started"
    run_id: str
    call_id: str
    name: str
    arguments: Mapping[str, Any] | None
    raw_arguments: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "run_id": self.run_id,
            "call_id": self.call_id,
            "name": self.name,
            "arguments": dict(self.arguments) if self.arguments is not None else None,
            "raw_arguments": self.raw_arguments,
        }


@record
class ToolProgress:
    """A chunk a streaming (generator) tool yielded while running; the model never sees it."""

    type: ClassVar[Literal["tool_progress"]] = "tool_progress"
    run_id: str
    call_id: str
    name: str
    chunk: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "run_id": self.run_id,
            "call_id": self.call_id,
            "name": self.name,
            "chunk": _jsonable(self.chunk),
        }


@record
class ToolCallFinished:
    """A tool call ended: its record (result or error) is what the model reads."""

    type: ClassVar[Literal["tool_call_finished"]] = "tool_call_finished"
    run_id: str
    record: ToolCallRecord

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "run_id": self.run_id, **_call_fields(self.record)}


@record
class RunFinished:
    """The run ended; `result` is the whole AgentResult.

    Its `output` is the text, or with `stream(..., output_type=T)` the T, so
    type checkers see it as `Any` here (`run()` and `arun()` know which).
    """

    type: ClassVar[Literal["run_finished"]] = "run_finished"
    run_id: str
    result: AgentResult[Any]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.result.to_dict()}


@record
class RunFailed:
    """Only on the wire and for observers: in Python the run raises instead."""

    type: ClassVar[Literal["error"]] = "error"
    run_id: str
    error_type: str
    message: str
    status: int = 500

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "run_id": self.run_id,
            "error": {"type": self.error_type, "message": self.message, "status": self.status},
        }

    @classmethod
    def from_exception(cls, run_id: str, exc: BaseException) -> RunFailed:
        """What clients may see of `exc`: our own errors say what happened, others nothing."""
        if isinstance(exc, SelectoolsError):
            return cls(run_id, exc.error_type, str(exc), exc.http_status)
        return cls(run_id, "internal_error", "The run failed unexpectedly; see server logs.")


@record
class ApprovalRequested:
    """The run paused: `calls` wait for a decision on `approval_id` and have not run."""

    type: ClassVar[Literal["approval_required"]] = "approval_required"
    run_id: str
    session_id: str | None
    identity: str | None
    approval_id: str
    calls: tuple[PendingCall, ...]

    def to_dict(self) -> dict[str, Any]:
        return {  # the identity stays on the server
            "type": self.type,
            "run_id": self.run_id,
            "session_id": self.session_id,
            "approval_id": self.approval_id,
            "pending": [call.to_dict() for call in self.calls],
        }


@record
class ApprovalDecided:
    """For observers and audit logs: someone approved or rejected one pending call."""

    type: ClassVar[Literal["approval_decided"]] = "approval_decided"
    run_id: str
    session_id: str | None
    identity: str | None
    call_id: str
    tool: str
    arguments: Mapping[str, Any]
    approved: bool
    reason: str | None = None
    approval_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "run_id": self.run_id,
            "session_id": self.session_id,
            "approval_id": self.approval_id,
            "call_id": self.call_id,
            "tool": self.tool,
            "arguments": dict(self.arguments),
            "approved": self.approved,
            "reason": self.reason,
        }


@record
class ModelCallStarted:
    """For observers: a model call is about to be made."""

    type: ClassVar[Literal["model_call_started"]] = "model_call_started"
    run_id: str
    request: ModelRequest


@record
class ModelCallFinished:
    """For observers: a model call returned."""

    type: ClassVar[Literal["model_call_finished"]] = "model_call_finished"
    run_id: str
    response: ModelResponse
    duration_ms: float


def _call_fields(record: ToolCallRecord) -> dict[str, Any]:
    fields = record.to_dict()
    fields["call_id"] = fields.pop("id")
    return fields


def _jsonable(value: Any) -> Any:
    """Chunks go on the wire as JSON: plain data as is, models dumped, anything else as text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    try:
        return json.loads(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):
        return str(value)


Event: TypeAlias = (
    RunStarted
    | TextDelta
    | ToolCallStarted
    | ToolProgress
    | ToolCallFinished
    | ApprovalRequested
    | ApprovalDecided
    | RunFinished
)


_HOOKS: dict[type, str] = {
    RunStarted: "on_run_start",
    ToolCallStarted: "on_tool_start",
    ApprovalRequested: "on_approval_requested",
    ApprovalDecided: "on_approval_decided",
    RunFinished: "on_run_end",
    RunFailed: "on_run_end",
}


def event_hook(event: object) -> str:
    """The observer hook that receives `event` (see `selectools.observers.HOOKS`)."""
    hook = _HOOKS.get(type(event))
    if hook is None:
        raise TypeError(f"no observer hook for {event!r}")
    return hook
