"""Where pending approvals live: beside the sessions, in the same store.

A decision may reach any worker, after a restart, hours later, so a paused
run is kept where the agent's sessions are: in this process for the
in-memory store, in a table of the same database for the SQLAlchemy store,
under the same Redis for the Redis store. `take` is the one atomic step:
of any number of workers deciding one approval at once, exactly one wins and
runs the approved calls; the others get `ApprovalDecidedError` (409).

A custom session store may offer its own by defining `approvals()`.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any, Protocol, runtime_checkable

from ..sessions.in_memory import InMemorySessionStore
from .errors import ApprovalStoreError
from .records import PendingApproval

__all__ = [
    "ApprovalStore",
    "InMemoryApprovalStore",
    "approval_store_for",
    "awithdraw_session",
    "withdraw_session",
]


@runtime_checkable
class ApprovalStore(Protocol):
    """Pending approvals by id; `find` also takes a run id or a session id."""

    def save(self, record: PendingApproval) -> None: ...

    def find(self, key: str) -> PendingApproval | None:
        """By approval id (any status), else the newest pending one of a run or session."""
        ...

    def take(self, approval_id: str) -> bool:
        """Mark it decided, atomically; True only for the one caller that did."""
        ...

    async def asave(self, record: PendingApproval) -> None: ...

    async def afind(self, key: str) -> PendingApproval | None: ...

    async def atake(self, approval_id: str) -> bool: ...


class InMemoryApprovalStore:
    """For the in-memory session store: one process, lost on restart."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, PendingApproval] = {}

    def save(self, record: PendingApproval) -> None:
        with self._lock:
            self._records[record.id] = record

    def find(self, key: str) -> PendingApproval | None:
        with self._lock:
            found = self._records.get(key)
            if found is not None:
                return found
            matches = [
                r for r in self._records.values() if r.pending and key in (r.run_id, r.session_id)
            ]
        return max(matches, key=lambda r: r.created_at) if matches else None

    def take(self, approval_id: str) -> bool:
        with self._lock:
            found = self._records.get(approval_id)
            if found is None or not found.pending:
                return False
            self._records[approval_id] = found.decided()
            return True

    async def asave(self, record: PendingApproval) -> None:
        self.save(record)

    async def afind(self, key: str) -> PendingApproval | None:
        return self.find(key)

    async def atake(self, approval_id: str) -> bool:
        return self.take(approval_id)


_MOST_WITHDRAWN = 100  # pending approvals one session could have piled up


def withdraw_session(sessions: Any, session_id: str) -> int:
    """Mark the session's pending approvals decided (its conversation was forgotten:
    deciding them would run its tools and write it back); how many there were."""
    store = approval_store_for(sessions)  # a store that cannot keep them raises
    withdrawn = 0
    for _ in range(_MOST_WITHDRAWN):
        found = store.find(session_id)
        if found is None or found.session_id != session_id or not found.pending:
            break  # (an approval id equal to this session id is someone else's: untouched)
        withdrawn += store.take(found.id)
    return withdrawn


async def awithdraw_session(sessions: Any, session_id: str) -> int:
    store = approval_store_for(sessions)
    withdrawn = 0
    for _ in range(_MOST_WITHDRAWN):
        found = await store.afind(session_id)
        if found is None or found.session_id != session_id or not found.pending:
            break
        withdrawn += await store.atake(found.id)
    return withdrawn


_made: weakref.WeakKeyDictionary[Any, ApprovalStore] = weakref.WeakKeyDictionary()
_made_lock = threading.Lock()


def approval_store_for(sessions: Any) -> ApprovalStore:
    """The approval store kept beside `sessions` (made once per session store)."""
    own = getattr(sessions, "approvals", None)
    if callable(own):
        made: ApprovalStore = own()
        return made
    with _made_lock:
        found = _made.get(sessions)
        if found is None:
            found = _made[sessions] = _make(sessions)
        return found


def _make(sessions: Any) -> ApprovalStore:
    if isinstance(sessions, InMemorySessionStore):
        return InMemoryApprovalStore()
    sql = sys.modules.get("selectools.sessions.sqlalchemy")
    if sql is not None and isinstance(sessions, sql.SQLAlchemySessionStore):
        from .sql import SQLAlchemyApprovalStore

        return SQLAlchemyApprovalStore(sessions.engine, table_prefix=sessions.table_prefix)
    redis = sys.modules.get("selectools.sessions.redis")
    if redis is not None and isinstance(sessions, redis.RedisSessionStore):
        from .redis import RedisApprovalStore

        return RedisApprovalStore(
            sessions.url,
            prefix=sessions.prefix.rstrip(":") + ":approval:",
            ttl_seconds=sessions.ttl_seconds,
        )
    raise ApprovalStoreError(
        f"A tool needs approval, but the session store {type(sessions).__name__} cannot keep "
        f"pending approvals. Use InMemorySessionStore, SQLAlchemySessionStore or "
        f"RedisSessionStore, or give your store an `approvals()` method returning an "
        f"ApprovalStore."
    )
