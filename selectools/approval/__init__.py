"""Human approval for tool calls: a run pauses, a person decides, the run goes on.

A tool marked `@tool(requires_approval=True)` (every connector write tool by
default), or a call a `RequireApproval` policy matches, does not run when
the model calls it: the run ends with `status="awaiting_approval"` and the
pending calls (`result.pending`, `result.approval_id`). The paused run is kept
beside the sessions (memory, SQL or Redis), so `agent.resume(key, decisions)`
may come from any worker, hours later. Only the run's identity may decide;
deciding is atomic (a decision delivered twice runs the calls once).
Approved calls run; a rejected one reaches the model as a tool result saying
a person rejected it, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

if TYPE_CHECKING:
    from .errors import (
        ApprovalDecidedError,
        ApprovalError,
        ApprovalNotFoundError,
        ApprovalStoreError,
        InvalidDecisionError,
    )
    from .policy import RequireApproval
    from .records import Decision, Decisions, PendingApproval
    from .stores import ApprovalStore, InMemoryApprovalStore, approval_store_for

# The loop imports `selectools.approval.flow` (and so this package) on every
# `import selectools`; what only pausing, resuming and the policy need loads
# with its first use.
_LAZY = {
    "ApprovalDecidedError": ".errors",
    "ApprovalError": ".errors",
    "ApprovalNotFoundError": ".errors",
    "ApprovalStore": ".stores",
    "ApprovalStoreError": ".errors",
    "Decision": ".records",
    "Decisions": ".records",
    "InMemoryApprovalStore": ".stores",
    "InvalidDecisionError": ".errors",
    "PendingApproval": ".records",
    "RequireApproval": ".policy",
    "approval_store_for": ".stores",
}
if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)

__all__ = [
    "ApprovalDecidedError",
    "ApprovalError",
    "ApprovalNotFoundError",
    "ApprovalStore",
    "ApprovalStoreError",
    "Decision",
    "Decisions",
    "InMemoryApprovalStore",
    "InvalidDecisionError",
    "PendingApproval",
    "RequireApproval",
    "approval_store_for",
]
