"""What a debugger pauses on (steps) and what its handler answers (decisions)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import field
from typing import Any, ClassVar, Literal, TypeAlias

from ..frozen import record
from ..providers.base import ModelRequest
from ..tools.calling import ToolInvocation

__all__ = ["Continue", "Decision", "Edit", "ModelStep", "Skip", "Step", "Stop", "ToolStep"]


@record
class ModelStep:
    """The run is about to ask the model; `request` is exactly what it will send."""

    index: int
    request: ModelRequest

    kind: ClassVar[Literal["model"]] = "model"

    def describe(self) -> str:
        last = self.request.messages[-1] if self.request.messages else None
        tools = ", ".join(str(t.get("function", t).get("name", "?")) for t in self.request.tools)
        said = (last.content or "") if last is not None else ""
        role = last.role if last is not None else "-"
        return (
            f"model call {self.index}: {len(self.request.messages)} messages, last from {role}: "
            f"{said[:200]!r}; tools: {tools or '(none)'}"
        )


@record
class ToolStep:
    """The run is about to call a tool with these (validated) arguments."""

    index: int
    invocation: ToolInvocation

    kind: ClassVar[Literal["tool"]] = "tool"

    @property
    def name(self) -> str:
        return self.invocation.name

    @property
    def arguments(self) -> Mapping[str, Any]:
        return self.invocation.arguments

    def describe(self) -> str:
        args = json.dumps(dict(self.arguments), ensure_ascii=False, default=str)
        return f"tool call {self.index}: {self.name}({args})"


Step: TypeAlias = ModelStep | ToolStep


@record
class Continue:
    """Go on as planned."""


@record
class Skip:
    """Do not call the tool; the model reads `result` as its result (or `error` as its error)."""

    result: Any = "skipped by the debugger"
    error: str | None = None


@record
class Edit:
    """Call the tool with these arguments instead (validated like the model's)."""

    arguments: Mapping[str, Any] = field(default_factory=dict)


@record
class Stop:
    """End the run here: it raises `DebugStopped`."""

    reason: str = "stopped in the debugger"


Decision: TypeAlias = Continue | Skip | Edit | Stop
