"""The step journal: a job's write-tool calls that completed are not run again on a retry.

When a worker dies mid-job, the job runs again elsewhere; finished items are
skipped, and the item that was running starts over. Its write tools
(`@tool(writes=True)`) are journaled: after a call succeeds, its output is
kept under a key of (item, tool, arguments, how many times this item made
that same call so far), and a retried run that makes the same call gets the
kept output back without the tool running. Only the one call in flight at
the instant of the kill can repeat (nothing can record "done" atomically
with an outside write); `RunContext.metadata["step_key"]` gives such a tool
the key to make its write idempotent.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..policies.base import BeforeTool, ToolPolicy
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from .store import JobStore

__all__ = ["StepJournal", "StepScope", "current_step"]


@dataclass
class StepScope:
    """One item's run inside a job: where its journal lives and what it has called."""

    store: JobStore
    job_id: str
    index: int
    on_event: Callable[[str, dict[str, Any]], Any] | None = None
    seen: Counter[str] = field(default_factory=Counter)
    pending: dict[str, tuple[str, bool]] = field(default_factory=dict)  # call id -> key, replayed

    def key_for(self, invocation: ToolInvocation) -> str:
        arguments = json.dumps(dict(invocation.arguments), sort_keys=True, default=str)
        digest = hashlib.sha256(f"{invocation.name}\0{arguments}".encode()).hexdigest()[:24]
        base = f"{self.index}:{invocation.name}:{digest}"
        self.seen[base] += 1
        return f"{base}:{self.seen[base]}"


current_step: contextvars.ContextVar[StepScope | None] = contextvars.ContextVar(
    "selectools_job_step", default=None
)


class StepJournal(ToolPolicy):
    """Replays a job's completed write-tool calls; outside a job it does nothing."""

    async def before_tool(self, invocation: ToolInvocation) -> BeforeTool:
        scope = current_step.get()
        if scope is None or not invocation.tool.writes:
            return None
        key = scope.key_for(invocation)
        kept = await asyncio.to_thread(scope.store.journal_get, scope.job_id, key)
        scope.pending[invocation.call.id] = (key, kept is not None)
        if kept is not None:
            await _tell(scope, "step_replayed", {"index": scope.index, "tool": invocation.name})
            return invocation.succeed(kept)
        context = invocation.context
        metadata = {**context.metadata, "step_key": key}
        return dataclasses.replace(
            invocation, context=dataclasses.replace(context, metadata=metadata)
        )

    async def after_tool(
        self, invocation: ToolInvocation, record: ToolCallRecord
    ) -> ToolCallRecord | None:
        scope = current_step.get()
        if scope is None:
            return None
        key, replayed = scope.pending.pop(invocation.call.id, ("", True))
        if replayed or not record.ok:
            return None
        await asyncio.to_thread(scope.store.journal_put, scope.job_id, key, record.output)
        await _tell(scope, "step_recorded", {"index": scope.index, "tool": invocation.name})
        return None


async def _tell(scope: StepScope, name: str, data: dict[str, Any]) -> None:
    if scope.on_event is not None:
        await asyncio.to_thread(scope.on_event, name, data)
