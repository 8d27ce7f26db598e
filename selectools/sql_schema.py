"""Engines and tables for the SQL stores, when many workers may start at once.

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

__all__ = ["create_tables", "engine_for"]

SQLITE_BUSY_TIMEOUT = 30.0
"""Seconds a SQLite connection waits for another worker's write lock before failing."""


def engine_for(url_or_engine: str | Engine) -> Engine:
    """An engine for a database URL, or the caller's own engine unchanged.

    On SQLite, connections wait up to `SQLITE_BUSY_TIMEOUT` for a lock another
    worker holds instead of failing at once with "database is locked".
    """
    if not isinstance(url_or_engine, str):
        return url_or_engine
    import sqlalchemy as sa

    sqlite = url_or_engine.startswith("sqlite")
    connect_args = {"timeout": SQLITE_BUSY_TIMEOUT} if sqlite else {}
    return sa.create_engine(url_or_engine, connect_args=connect_args)


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
