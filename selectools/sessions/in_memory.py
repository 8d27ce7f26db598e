"""A session store in this process's memory: for tests, notebooks and single workers."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ..messages import Message
from ..sequences import PrefixView
from .base import SessionSummary, StoredSession, not_yours, system_positions

__all__ = ["InMemorySessionStore"]


class InMemorySessionStore:
    """Thread-safe; lost on restart and not shared between workers (use SQLAlchemy then).

    Each session's messages live in a list that only grows; a loaded session
    is a view of it as it was (`PrefixView`), so a turn costs what it adds,
    not what the session holds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, StoredSession] = {}
        self._logs: dict[str, list[Message]] = {}

    def load(self, session_id: str) -> StoredSession | None:
        with self._lock:
            return self._sessions.get(session_id)

    def claim(self, session_id: str, owner: str) -> StoredSession:
        with self._lock:
            current = self._sessions.get(session_id)
            if current is None:
                current = self._sessions[session_id] = StoredSession(session_id, (), owner, ())
            return current

    def append(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        with self._lock:
            current = self._sessions.get(session_id)
            if current is None:
                current = StoredSession(session_id, (), owner, ())
            elif not current.allows(owner):
                raise not_yours(session_id)
            log = self._logs.setdefault(session_id, [])
            added = system_positions(messages, len(log))
            log.extend(messages)
            self._sessions[session_id] = StoredSession(
                session_id,
                PrefixView(log, len(log)),
                current.owner,
                (current.system_at or ()) + added,
            )

    def delete(self, session_id: str) -> bool:
        with self._lock:
            self._logs.pop(session_id, None)  # views handed out keep their own reference
            return self._sessions.pop(session_id, None) is not None

    async def aload(self, session_id: str) -> StoredSession | None:
        return self.load(session_id)

    async def aclaim(self, session_id: str, owner: str) -> StoredSession:
        return self.claim(session_id, owner)

    async def aappend(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        self.append(session_id, messages, owner=owner)

    async def adelete(self, session_id: str) -> bool:
        return self.delete(session_id)

    def list_owned(self, owner: str, limit: int = 50) -> list[SessionSummary]:
        """`owner`'s sessions, newest first (by creation: this store keeps no clock)."""
        with self._lock:
            owned = [s for s in reversed(self._sessions.values()) if s.owner == owner]
        return [SessionSummary(s.id, len(s.messages)) for s in owned[:limit]]

    async def alist_owned(self, owner: str, limit: int = 50) -> list[SessionSummary]:
        return self.list_owned(owner, limit)
