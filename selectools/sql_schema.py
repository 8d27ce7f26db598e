"""Creating a store's tables when many workers may start at once.

Every SQL-backed store (sessions, approvals, audit, analytics, facts, jobs)
creates its tables at start if missing. On PostgreSQL two processes doing that
at the same moment race in the catalog (`UniqueViolation` on `pg_type`), so
creation runs under a transaction-scoped advisory lock named after the store:
one worker creates, the others wait and then find the tables. SQLite runs its
DDL outside a transaction by default, so two workers both find a table missing
and the second dies with "table already exists": there the check and the
creation run inside `BEGIN IMMEDIATE`, which takes the file's write lock first.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Engine

__all__ = ["create_tables"]


def create_tables(engine: Engine, metadata: MetaData, lock_name: str) -> None:
    """Create `metadata`'s missing tables; on PostgreSQL one creator at a time per `lock_name`."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            key = zlib.crc32(lock_name.encode()) - 2**31
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        metadata.create_all(conn, checkfirst=True)
