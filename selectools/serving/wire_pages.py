"""Wire models of the routes the web pages use (session list, builder), next to `wire`."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..sessions.base import SessionSummary

__all__ = ["SessionListResponse", "SessionSummaryOut"]


class SessionSummaryOut(BaseModel):
    model_config = ConfigDict(defer_build=True)

    session_id: str
    message_count: int
    updated_at: datetime | None = None

    @classmethod
    def of(cls, summary: SessionSummary) -> SessionSummaryOut:
        return cls(
            session_id=summary.id,
            message_count=summary.message_count,
            updated_at=summary.updated_at,
        )


class SessionListResponse(BaseModel):
    """The caller's sessions, most recent first (at most 50)."""

    model_config = ConfigDict(defer_build=True)

    sessions: list[SessionSummaryOut]
    listed: bool = Field(
        description="False when the caller is anonymous or the store cannot list sessions."
    )
