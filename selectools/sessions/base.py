"""The session store protocol: conversations by id, shared by every worker process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..messages import Message

__all__ = ["SessionStore", "StoredSession"]


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: str
    messages: tuple[Message, ...]
    owner: str | None = None


@runtime_checkable
class SessionStore(Protocol):
    """Where conversations live between runs.

    `append` must be atomic per call: concurrent appends to one session may
    interleave whole batches but never lose or split them. The first append
    sets the owner; later appends keep it.
    """

    def load(self, session_id: str) -> StoredSession | None: ...

    def append(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None: ...

    def delete(self, session_id: str) -> bool: ...

    async def aload(self, session_id: str) -> StoredSession | None: ...

    async def aappend(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None: ...

    async def adelete(self, session_id: str) -> bool: ...
