"""The approval errors: each says what happened and carries its HTTP answer."""

from __future__ import annotations

from ..errors import SelectoolsError

__all__ = [
    "ApprovalDecidedError",
    "ApprovalError",
    "ApprovalNotFoundError",
    "ApprovalStoreError",
    "InvalidDecisionError",
]


class ApprovalError(SelectoolsError):
    """Base of the approval errors."""


class ApprovalNotFoundError(ApprovalError, LookupError):
    """No pending approval by that id for this caller (HTTP 404).

    Someone else's approval gets the same answer as a missing one: its
    existence is never revealed.
    """

    default_status = 404


class ApprovalDecidedError(ApprovalError):
    """The approval was already decided (twice delivered, or decided by another worker): 409."""

    default_status = 409

    @property
    def error_type(self) -> str:
        return "approval_already_decided"


class InvalidDecisionError(ApprovalError, ValueError):
    """The decisions do not fit the pending calls (HTTP 422)."""

    default_status = 422


class ApprovalStoreError(ApprovalError):
    """The session store cannot keep pending approvals (HTTP 500: a configuration fault)."""
