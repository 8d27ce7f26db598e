"""What a paused run leaves behind: the pending calls and the run's state, as JSON.

A `PendingApproval` is written to the approval store when a run pauses and
read back by whichever worker receives the decision, possibly hours later
and after a restart, so everything in it is plain JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import field, replace
from typing import Any, TypeAlias

from ..frozen import record
from ..results import PendingCall
from .errors import InvalidDecisionError

__all__ = ["Decision", "Decisions", "PendingApproval", "new_approval_id"]


@record
class Decision:
    """A person's answer for one pending call; `reason` reaches the model on rejection."""

    approved: bool
    reason: str | None = None

    @classmethod
    def approve(cls, reason: str | None = None) -> Decision:
        return cls(True, reason)

    @classmethod
    def reject(cls, reason: str | None = None) -> Decision:
        return cls(False, reason)


Decisions: TypeAlias = "bool | Decision | Mapping[str, bool | Decision]"
"""One answer for every pending call, or one per call id."""


def new_approval_id() -> str:
    """Unguessable: knowing an id is not enough to decide (the owner is checked too)."""
    return "apr_" + os.urandom(16).hex()


@record
class PendingApproval:
    """A paused run: the calls waiting for a decision and what the run needs to go on."""

    id: str
    run_id: str
    session_id: str | None
    identity: str | None
    calls: tuple[PendingCall, ...]
    state: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    status: str = "pending"

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    def allows(self, identity: str | None) -> bool:
        """Like sessions: an approval without an owner is anyone's, an owned one its owner's."""
        return self.identity is None or self.identity == identity

    def decided(self) -> PendingApproval:
        return replace(self, status="decided")

    def decisions_for(self, decisions: Decisions) -> dict[str, Decision]:
        """One Decision per pending call, in the calls' order; anything else is a 422."""
        if isinstance(decisions, bool | Decision):
            one = decisions if isinstance(decisions, Decision) else Decision(decisions)
            return {call.id: one for call in self.calls}
        if not isinstance(decisions, Mapping):
            raise InvalidDecisionError(
                f"Decisions must be True/False, a Decision, or a mapping of call id to one; "
                f"got {type(decisions).__name__}."
            )
        ids = [call.id for call in self.calls]
        unknown = sorted(set(decisions) - set(ids))
        missing = [i for i in ids if i not in decisions]
        if unknown or missing:
            parts = []
            if missing:
                parts.append(f"no decision for {', '.join(map(repr, missing))}")
            if unknown:
                parts.append(f"no pending call {', '.join(map(repr, unknown))}")
            raise InvalidDecisionError(
                f"The decisions do not match the pending calls ({'; '.join(parts)}). "
                f"Decide each of: {', '.join(map(repr, ids))}."
            )
        chosen: dict[str, Decision] = {}
        for call_id in ids:
            value = decisions[call_id]
            if isinstance(value, bool):
                value = Decision(value)
            if not isinstance(value, Decision):
                raise InvalidDecisionError(
                    f"The decision for {call_id!r} must be True/False or a Decision, "
                    f"got {type(value).__name__}."
                )
            chosen[call_id] = value
        return chosen

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "run_id": self.run_id,
                "session_id": self.session_id,
                "identity": self.identity,
                "calls": [call.to_dict() for call in self.calls],
                "state": self.state,
                "created_at": self.created_at,
                "status": self.status,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> PendingApproval:
        data = json.loads(text)
        calls = tuple(PendingCall(c["id"], c["tool"], c["arguments"]) for c in data["calls"])
        return cls(
            id=data["id"],
            run_id=data["run_id"],
            session_id=data["session_id"],
            identity=data["identity"],
            calls=calls,
            state=data["state"],
            created_at=float(data["created_at"]),
            status=data.get("status", "pending"),
        )
