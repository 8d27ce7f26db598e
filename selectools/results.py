"""What a run produced: the answer, the conversation, every tool call, usage and cost."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any, Generic, cast

from . import frozen
from .messages import Message
from .usage import Usage

if TYPE_CHECKING:
    from typing_extensions import TypeVar

    OutputT = TypeVar("OutputT", default=str)  # a bare `AgentResult` is `AgentResult[str]`
else:  # the default matters to type checkers only; typing's own needs no extra import
    from typing import TypeVar

    OutputT = TypeVar("OutputT")

__all__ = ["AgentResult", "PendingCall", "ToolCallRecord"]


@frozen.record
class ToolCallRecord:
    """One tool call: what the model asked, what the tool returned or why it failed.

    `cached` marks a result a tool cache gave instead of calling the tool.
    """

    id: str
    name: str
    raw_arguments: str
    arguments: Mapping[str, Any] | None = None
    result: Any = None
    output: str = ""
    error: str | None = None
    error_type: str | None = None
    duration_ms: float = 0.0
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "arguments": dict(self.arguments) if self.arguments is not None else None,
            "raw_arguments": self.raw_arguments,
            "output": self.output,
            "error": self.error,
            "error_type": self.error_type,
            "duration_ms": round(self.duration_ms, 3),
            "cached": self.cached,
        }


@frozen.record
class PendingCall:
    """A tool call the model made that waits for a person's approval; it has not run."""

    id: str
    tool: str
    arguments: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tool": self.tool, "arguments": dict(self.arguments)}


@frozen.record
class AgentResult(Generic[OutputT]):
    """The outcome of one run; `messages` is the full conversation the model saw.

    `model` and `provider` are those of the last answer (with a FallbackProvider,
    the member that answered); `usage` prices each call at its own model's price.
    `status` is "completed", or "awaiting_approval" when the run paused for a
    person's decision on the `pending` calls (`approval_id`); a resumed run's
    `usage` counts only what it used after the resume. `output` is the answer:
    the text, or with `run(..., output_type=T)` the validated T (`text` is then
    its JSON, `parsed` the value).
    """

    text: str
    messages: Sequence[Message]  # a tuple, or a view sharing the history (`selectools.sequences`)
    new_messages: tuple[Message, ...]
    tool_calls: tuple[ToolCallRecord, ...] = ()
    usage: Usage = field(default_factory=Usage)
    run_id: str = ""
    session_id: str | None = None
    model: str = ""
    iterations: int = 0
    provider: str = ""
    status: str = "completed"
    pending: tuple[PendingCall, ...] = ()
    approval_id: str | None = None
    parsed: Any = None
    structured: bool = False

    @property
    def output(self) -> OutputT:
        return cast(OutputT, self.parsed if self.structured else self.text)

    @property
    def awaiting_approval(self) -> bool:
        """The run paused: `pending` calls wait for `agent.resume(approval_id, ...)`."""
        return self.status == "awaiting_approval"

    @property
    def cost_usd(self) -> float | None:
        return self.usage.cost_usd

    @property
    def failed_tool_calls(self) -> tuple[ToolCallRecord, ...]:
        return tuple(record for record in self.tool_calls if not record.ok)

    def raise_for_tool_errors(self) -> None:
        """Raise ToolExecutionError for the first failed tool call, for callers (and tests)
        that treat any tool failure as fatal even though the model recovered."""
        from .errors import ToolExecutionError

        for record in self.tool_calls:
            if not record.ok:
                raise ToolExecutionError(record.error or "tool failed", tool_name=record.name)

    def to_dict(self) -> dict[str, Any]:
        data = self._to_dict()
        if self.structured:
            data["parsed"] = _jsonable(self.parsed)
        return data

    def _to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "session_id": self.session_id,
            "output": self.text,
            "model": self.model,
            "provider": self.provider,
            "iterations": self.iterations,
            "tool_calls": [record.to_dict() for record in self.tool_calls],
            "usage": self.usage.to_dict(),
            "cost_usd": self.cost_usd,
            "status": self.status,
            "approval_id": self.approval_id,
            "pending": [call.to_dict() for call in self.pending],
        }


def _jsonable(value: Any) -> Any:
    """A structured output as plain JSON data (models, dataclasses and all)."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)
