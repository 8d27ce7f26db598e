"""SQLite's own enforcement while a model's statement runs on a connection.

- An authorizer allows reads only of the listed tables (`SQLITE_READ` per
  table, so the database itself enforces `include_tables`), only the
  allowlisted functions, and writes only to writable tables in `main`; it
  denies ATTACH, PRAGMA, DDL and the rest. (A `mode=ro` URI still allows
  ATTACH of a new file; `PRAGMA query_only` can be switched off by the next
  statement.)
- A connection length limit (`SQLITE_LIMIT_LENGTH`) stops any string or blob
  larger than `max_value_bytes` from being built or read, so memory follows
  the caps, not the data (`substr()` does not help: the whole value is built
  first).
- A progress handler stops the statement at the timeout.

Everything is put back when the statement is done; the connection returns to
the pool as it came.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from .functions import sqlite_authorizer_functions

__all__ = ["capped_query", "probe_query", "sqlite_authorizer", "sqlite_guarded"]

_TRANSACTION_ACTIONS = frozenset({sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT})
_WRITE_ACTIONS = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})
_PROGRESS_STEPS = 1000
_INTERNAL_TABLES = frozenset(
    {"sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_temp_schema"}
)
_SCHEMA_NAMES = "SELECT name FROM sqlite_master UNION SELECT name FROM sqlite_temp_master"


def sqlite_authorizer(
    *,
    readable: Collection[str] | None = None,
    writable: Collection[str] = (),
    functions: Collection[str] | None = None,
    schema_names: Collection[str] = (),
) -> Callable[[int, str | None, str | None, str | None, str | None], int]:
    """Allow reads of `readable` tables (all when None), the allowlisted functions, and
    writes to `writable` tables in `main`; deny everything else.

    `schema_names` are the database's tables and views: SQLite reports a `count(*)` over a
    CTE as a read of the CTE's name with no database, and such a read is allowed only when
    the name is not a real table.
    """
    real_names = frozenset(n.lower() for n in schema_names) | _INTERNAL_TABLES
    writable_lower = frozenset(t.lower() for t in writable)
    readable_lower = (
        None if readable is None else frozenset(t.lower() for t in readable) | writable_lower
    )
    allowed_functions = frozenset(
        f.lower() for f in (sqlite_authorizer_functions() if functions is None else functions)
    )

    def may_read(table: str, db_name: str | None, source: str | None) -> bool:
        if readable_lower is None:
            return True
        if db_name is None and table not in real_names:
            return True  # a CTE or subquery SQLite scans (count(*) over it), not a table
        names = {table, f"{db_name}.{table}"} if db_name else {table}
        via_view = source is not None and source.lower() in readable_lower
        return via_view or not names.isdisjoint(readable_lower)

    def authorize(
        action: int,
        arg1: str | None,
        arg2: str | None,
        db_name: str | None,
        source: str | None,
    ) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            allowed = may_read((arg1 or "").lower(), db_name, source)
            return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION:
            allowed = (arg2 or "").lower() in allowed_functions
            return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
        if writable_lower and action in _TRANSACTION_ACTIONS:
            return sqlite3.SQLITE_OK
        if action in _WRITE_ACTIONS and (arg1 or "").lower() in writable_lower:
            return sqlite3.SQLITE_OK if db_name in (None, "main") else sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_DENY

    return authorize


@contextmanager
def sqlite_guarded(
    conn: Any,
    *,
    timeout: float,
    max_value_bytes: int,
    readable: Collection[str] | None,
    writable: Collection[str] = (),
) -> Iterator[None]:
    """Run the block under the authorizer, the length limit and the timeout."""
    if not isinstance(conn, sqlite3.Connection):
        raise TypeError(
            f"SQLToolkit needs the standard sqlite3 driver on SQLite, got {type(conn).__name__}."
        )
    schema_names = [] if readable is None else [r[0] for r in conn.execute(_SCHEMA_NAMES)]
    deadline = time.monotonic() + timeout
    previous_length = conn.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
    conn.set_authorizer(
        sqlite_authorizer(readable=readable, writable=writable, schema_names=schema_names)
    )
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max_value_bytes)
    try:
        yield
    finally:
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, previous_length)
        conn.set_progress_handler(None, 0)
        conn.set_authorizer(None)


def probe_query(sql: str) -> str:
    """The query's columns without computing a row."""
    return f"SELECT * FROM ({sql}) LIMIT 0"


def capped_query(sql: str, column_count: int, *, limit: int, max_cell_chars: int) -> str:
    """The query with each value cut in SQLite (text to `max_cell_chars`, blobs to a size)."""
    names = [f"c{i}" for i in range(column_count)]
    cells = ", ".join(_cut(name, max_cell_chars) for name in names) or "NULL"
    return (
        f"WITH selectools_q({', '.join(names)}) AS ({sql}) "
        f"SELECT {cells} FROM selectools_q LIMIT {limit}"
    )


def _cut(name: str, n: int) -> str:
    return (
        f"CASE typeof({name}) "
        f"WHEN 'text' THEN CASE WHEN length({name}) > {n} "
        f"THEN substr({name}, 1, {n}) || '... [' || (length({name}) - {n}) "
        f"|| ' more characters]' ELSE {name} END "
        f"WHEN 'blob' THEN '<' || length({name}) || ' bytes>' "
        f"ELSE {name} END"
    )
