"""The session store protocol: conversations by id, shared by every worker process."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import SessionNotFoundError
from ..frozen import record
from ..messages import Message

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "SessionLister",
    "SessionStore",
    "SessionSummary",
    "StoredSession",
    "encode_message",
    "not_yours",
    "system_positions",
]


@record
class StoredSession:
    """A session as loaded. `system_at` lists the positions of the system messages in
    `messages` when the store tracks them as it writes (None: not tracked), so memory
    finds a stored summary without walking a long history."""

    id: str
    messages: Sequence[Message]  # a tuple, or a view that never changes (`selectools.sequences`)
    owner: str | None = None
    system_at: tuple[int, ...] | None = None

    @classmethod
    def read(cls, session_id: str, messages: Sequence[Message], owner: str | None) -> StoredSession:
        """A session a store has just read back whole, its system messages located."""
        return cls(session_id, messages, owner, system_positions(messages))

    def allows(self, owner: str | None) -> bool:
        """Anyone may continue a session without an owner; an owned one only its owner."""
        return self.owner is None or self.owner == owner


def system_positions(messages: Sequence[Message], start: int = 0) -> tuple[int, ...]:
    """Where the system messages are (for `StoredSession.system_at`), counted from `start`:
    a store that appends passes its current length and adds the result to what it had."""
    return tuple(i for i, m in enumerate(messages, start) if m.role == "system")


def encode_message(message: Message) -> str:
    """A message as stored: its wire form plus what only memory reads (`pinned`).

    `Message.from_dict` reads it back.
    """
    data = message.to_dict()
    if message.pinned:
        data["pinned"] = True
    return json.dumps(data, ensure_ascii=False)


@record
class SessionSummary:
    """One line of a caller's session list: no messages, just enough to pick one."""

    id: str
    message_count: int
    updated_at: datetime | None = None


@runtime_checkable
class SessionLister(Protocol):
    """A store that can list one owner's sessions, most recently changed first.

    Optional (the playground's session list uses it): sessions without an
    owner are never listed, since anyone could have started them.
    """

    def list_owned(self, owner: str, limit: int = 50) -> list[SessionSummary]: ...

    async def alist_owned(self, owner: str, limit: int = 50) -> list[SessionSummary]: ...


def not_yours(session_id: str) -> SessionNotFoundError:
    """The answer for someone else's session: the same as for a missing one."""
    return SessionNotFoundError(f"No session '{session_id}' for this caller.")


@runtime_checkable
class SessionStore(Protocol):
    """Where conversations live between runs.

    Ownership is decided atomically: `claim` creates a missing session owned
    by `owner` (of several concurrent claimers exactly one wins; the others
    get the winner's session back), and `append` checks the owner again where
    it writes, raising `SessionNotFoundError` for someone else's session.
    `append` is atomic per call: concurrent appends to one session may
    interleave whole batches but never lose or split them. A session
    created by `append` takes its `owner`; later appends keep it.
    """

    def load(self, session_id: str) -> StoredSession | None: ...

    def claim(self, session_id: str, owner: str) -> StoredSession: ...

    def append(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None: ...

    def delete(self, session_id: str) -> bool: ...

    async def aload(self, session_id: str) -> StoredSession | None: ...

    async def aclaim(self, session_id: str, owner: str) -> StoredSession: ...

    async def aappend(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None: ...

    async def adelete(self, session_id: str) -> bool: ...
