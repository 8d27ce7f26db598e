"""One audit record per tool call or approval decision, and the redaction of its arguments."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias

from ..frozen import record

__all__ = ["OUTCOMES", "AuditRecord", "Outcome", "Redactor"]

Outcome: TypeAlias = Literal[
    "ok", "failed", "error", "cancelled", "awaiting_approval", "approved", "rejected"
]
OUTCOMES: tuple[Outcome, ...] = (
    "ok",  # the tool ran and returned
    "failed",  # the call ended with an error the model reads: the tool raised or timed
    #            out, or a policy refused it (error_type says which: "timeout", "refused", ...)
    "error",  # the run failed while the call was in flight (error_type: the exception)
    "cancelled",  # the run was cancelled while the call was in flight
    "awaiting_approval",  # the run paused for a person's decision on the call
    "approved",  # a person approved the call (its run is a record of its own)
    "rejected",  # a person rejected the call; it never ran
)
REDACTED = "[redacted]"


@record
class AuditRecord:
    """What happened to one tool call: who, where, what with, how it ended, how long it took.

    `time` is when the call started (UTC); `identity` the run's caller (for a
    decision: the identity that decided); `reason` a rejection's reason or a
    refusal's message; `id` is set by sinks that store records (for paging).
    """

    time: datetime
    tool: str
    outcome: Outcome
    arguments: Mapping[str, Any] = field(default_factory=dict)
    identity: str | None = None
    session_id: str | None = None
    run_id: str = ""
    call_id: str = ""
    error_type: str | None = None
    duration_ms: float = 0.0
    reason: str | None = None
    id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["time"] = self.time.isoformat()
        data["arguments"] = dict(self.arguments)
        data["duration_ms"] = round(self.duration_ms, 3)
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, default=str, sort_keys=True)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditRecord:
        values = dict(data)
        when = values["time"]
        values["time"] = when if isinstance(when, datetime) else datetime.fromisoformat(when)
        if values["time"].tzinfo is None:  # SQLite hands back naive datetimes
            values["time"] = values["time"].replace(tzinfo=UTC)
        return cls(**values)


class Redactor:
    """Replace the values of configured fields, at any depth, with `[redacted]`.

    Field names match case-insensitively; shell-style patterns work too
    (`"*token*"`). `values`, if given, rewrites every remaining string (for
    example `RedactPII().redact`, for PII in free text).
    """

    def __init__(
        self, fields: Iterable[str] = (), *, values: Callable[[str], str] | None = None
    ) -> None:
        self.patterns = tuple(f.lower() for f in fields)
        self.values = values

    def hides(self, key: str) -> bool:
        lowered = key.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in self.patterns)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): REDACTED if self.hides(str(k)) else self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        if isinstance(value, str) and self.values is not None:
            return self.values(value)
        return value
