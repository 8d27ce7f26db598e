"""PostgreSQL's own enforcement while a model's statement runs on a connection.

- Our own transaction, whatever the engine's settings: the driver is put in
  autocommit mode and the toolkit sends `BEGIN TRANSACTION READ ONLY` (or
  `BEGIN` for a write) and `SET LOCAL statement_timeout` itself, so an engine
  created with `isolation_level="AUTOCOMMIT"` cannot silently turn them off.
  Reads always end in `ROLLBACK`.
- With psycopg 3 the statement goes over the extended protocol, which runs
  exactly one statement: a `;` smuggled past the parser is a syntax error.
- Session-level advisory locks (and, on psycopg 3, prepared statements) are
  dropped before the connection goes back to the pool, so nothing a call
  takes outlives it.
- Each output column is cut in the query (`substr(value::text, 1, n)`), so a
  150 MB value never reaches this process.

The role the toolkit connects as is the third layer (see `roles.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = [
    "ConnectionLeftUnclean",
    "capped_query",
    "postgres_transaction",
    "probe_query",
    "run",
]

# bool, int8, int2, int4, oid, float4, float8: fixed size, kept as numbers.
_PASS_THROUGH_TYPES = frozenset({16, 20, 21, 23, 26, 700, 701})
_BYTEA = 17


class ConnectionLeftUnclean(Exception):
    """Ending the transaction failed: the connection must not go back to the pool.

    `args[0]` is the error that matters to the caller (the statement's, if it failed).
    """


@contextmanager
def postgres_transaction(
    dbapi_conn: Any, *, timeout: float, read_only: bool, driver: str
) -> Iterator[Any]:
    """A cursor inside the toolkit's own transaction; rolled back unless the block commits."""
    dbapi_conn.rollback()  # nothing pending from the pool
    previous_autocommit = dbapi_conn.autocommit
    dbapi_conn.autocommit = True  # BEGIN/ROLLBACK are ours, whatever the engine's settings
    cursor = dbapi_conn.cursor()
    failure: BaseException | None = None
    try:
        milliseconds = max(1, int(timeout * 1000))
        mode = "READ ONLY" if read_only else "READ WRITE"
        cursor.execute(
            f"BEGIN TRANSACTION {mode}; SET LOCAL statement_timeout = {milliseconds}; "
            f"SET LOCAL lock_timeout = {milliseconds}"
        )
        yield cursor
    except BaseException as exc:
        failure = exc
        raise
    finally:
        try:
            cursor.execute(_cleanup(driver))
            cursor.close()
            dbapi_conn.autocommit = previous_autocommit
        except Exception as exc:
            raise ConnectionLeftUnclean(failure or exc) from exc


def _cleanup(driver: str) -> str:
    """End the transaction and drop what outlives one: session advisory locks and, on
    psycopg 3 (whose statement cache follows a DEALLOCATE ALL), prepared statements."""
    statements = "ROLLBACK; SELECT pg_advisory_unlock_all()"
    if driver == "psycopg":
        statements += "; DEALLOCATE ALL"
    return statements


def run(cursor: Any, sql: str, *, driver: str) -> None:
    """Execute one statement; on psycopg 3 over the extended protocol (one statement only)."""
    if driver == "psycopg":
        cursor.execute(sql, binary=True)
    else:
        cursor.execute(sql)


def probe_query(sql: str) -> str:
    """The query's columns and their types without computing a row."""
    return f"SELECT * FROM ({sql}) AS selectools_q LIMIT 0"


def capped_query(sql: str, type_codes: Sequence[Any], *, limit: int, max_cell_chars: int) -> str:
    """The query with each value cut in the database: text to `max_cell_chars`, bytea to a size.

    `OFFSET 0` keeps the planner from copying the model's expressions into each place the
    outer query uses them, so every value is computed once; the text form of each column is
    taken once, and only its first characters are read (`substr` can slice a TOASTed value).
    """
    if not type_codes:
        return f"SELECT FROM ({sql}) AS selectools_q LIMIT {limit}"
    columns = ", ".join(f"c{i}" for i in range(len(type_codes)))
    values = ", ".join(_value(f"c{i}", code) + f" AS v{i}" for i, code in enumerate(type_codes))
    cells = ", ".join(_cell(f"v{i}", code, max_cell_chars) for i, code in enumerate(type_codes))
    model = f"SELECT * FROM ({sql}) AS selectools_m OFFSET 0"
    texts = f"SELECT {values} FROM ({model}) AS selectools_q({columns}) OFFSET 0"
    return f"SELECT {cells} FROM ({texts}) AS selectools_v LIMIT {limit}"


def _value(column: str, type_code: Any) -> str:
    if type_code in _PASS_THROUGH_TYPES:
        return column
    if type_code == _BYTEA:
        return f"octet_length({column})"
    return f"{column}::text"


def _cell(value: str, type_code: Any, n: int) -> str:
    if type_code in _PASS_THROUGH_TYPES:
        return value
    if type_code == _BYTEA:
        return f"'<' || {value} || ' bytes>'"
    head = f"substr({value}, 1, {n})"
    return (
        f"CASE WHEN octet_length({value}) <= {n} OR char_length(substr({value}, 1, {n + 1})) "
        f"<= {n} THEN {value} ELSE {head} || '... [' || "
        f"(octet_length({value}) - octet_length({head})) || ' more bytes]' END"
    )
