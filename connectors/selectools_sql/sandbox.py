"""The second and third safety layers: the database refuses writes by itself, and slow
statements are stopped. Each model statement runs on a raw DB-API cursor (no
driver-side placeholder parsing) in a transaction that read-only calls always
roll back.

- SQLite: an authorizer allows only reads while the statement runs (a
  `mode=ro` URI still allows ATTACH of a new file; `PRAGMA query_only` can be
  switched off by the next statement). A progress handler enforces the timeout.
- PostgreSQL: `SET TRANSACTION READ ONLY` and `SET LOCAL statement_timeout`
  open every call's transaction, which is then rolled back.
- Others: the transaction is rolled back; give the tool a SELECT-only role.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from .errors import QueryFailedError

_READ_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
_TRANSACTION_ACTIONS = frozenset({sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT})
_WRITE_ACTIONS = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})
_DANGEROUS_SQLITE_FUNCTIONS = frozenset(
    {"load_extension", "writefile", "readfile", "fts3_tokenizer"}
)


@dataclass(frozen=True, slots=True)
class Fetched:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool


def sqlite_authorizer(writable: Collection[str] = ()) -> Callable[..., int]:
    """Allow reads (and writes to `writable` tables); deny ATTACH, PRAGMA, DDL, the rest."""
    writable_lower = {t.lower() for t in writable}

    def authorize(action: int, arg1: Any, arg2: Any, db_name: Any, trigger: Any) -> int:
        if action in _READ_ACTIONS or action in _TRANSACTION_ACTIONS:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            name = str(arg2 or "").lower()
            return sqlite3.SQLITE_DENY if name in _DANGEROUS_SQLITE_FUNCTIONS else sqlite3.SQLITE_OK
        if action in _WRITE_ACTIONS and str(arg1 or "").lower() in writable_lower:
            return sqlite3.SQLITE_OK if db_name in (None, "main") else sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_DENY

    return authorize


@contextmanager
def _raw_connection(engine: Engine) -> Iterator[Any]:
    raw = engine.raw_connection()
    try:
        yield raw
    finally:
        raw.close()  # back to the pool


def _dbapi(raw: Any) -> Any:
    return getattr(raw, "driver_connection", None) or raw.dbapi_connection


@contextmanager
def _guarded(
    engine: Engine, raw: Any, timeout: float, writable: Collection[str], read_only: bool
) -> Iterator[None]:
    dialect = engine.dialect.name
    if dialect == "sqlite":
        conn = _dbapi(raw)
        deadline = time.monotonic() + timeout
        conn.set_authorizer(sqlite_authorizer(() if read_only else writable))
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        try:
            yield
        finally:
            conn.set_authorizer(None)
            conn.set_progress_handler(None, 0)
        return
    if dialect == "postgresql":
        cursor = raw.cursor()
        if read_only:
            cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
        cursor.close()
    yield


def fetch_read_only(engine: Engine, sql: str, *, limit: int, timeout: float) -> Fetched:
    """Run one checked query and fetch at most `limit` rows (and whether there were more)."""
    with _raw_connection(engine) as raw:
        try:
            with _guarded(engine, raw, timeout, (), read_only=True):
                cursor = raw.cursor()
                cursor.execute(sql)
                columns = [d[0] for d in cursor.description or ()]
                rows = [tuple(r) for r in cursor.fetchmany(limit + 1)]
                cursor.close()
        except Exception as exc:
            raise _failed(exc, timeout) from None
        finally:
            raw.rollback()  # a read-only call never commits anything
    return Fetched(columns, rows[:limit], len(rows) > limit)


def execute_write(engine: Engine, sql: str, *, writable: Collection[str], timeout: float) -> int:
    """Run one checked write and commit it; returns the affected row count."""
    with _raw_connection(engine) as raw:
        try:
            with _guarded(engine, raw, timeout, writable, read_only=False):
                cursor = raw.cursor()
                cursor.execute(sql)
                count = int(cursor.rowcount)
                cursor.close()
            raw.commit()
        except Exception as exc:
            raw.rollback()
            raise _failed(exc, timeout) from None
    return count


def _failed(exc: Exception, timeout: float) -> QueryFailedError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = text.lower()
    if (
        "interrupted" in lowered
        or "statement timeout" in lowered
        or "canceling statement" in lowered
    ):
        return QueryFailedError(
            f"The query was stopped after {timeout:g} s. Make it cheaper: filter, aggregate "
            f"or add a LIMIT."
        )
    if "not authorized" in lowered or "read-only" in lowered:
        return QueryFailedError(f"The database refused the statement: {text}.")
    return QueryFailedError(f"The database rejected the query: {text}")
