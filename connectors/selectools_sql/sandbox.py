"""The database layer: the database itself refuses what the parser should have refused.

Each model statement runs on a raw DB-API connection from the engine's pool
(no driver-side placeholder parsing), under the database's own guards:
SQLite's authorizer, length limit and progress handler (`sqlite_session.py`),
or PostgreSQL's read-only transaction and statement timeout
(`postgres_session.py`). Values are cut in the query and rows are fetched a
few at a time up to the caps (`results.py`), so memory follows the caps, not
the data. Other databases get a rolled-back transaction only: give the tool a
SELECT-only user.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Engine

from . import postgres_session, sqlite_session
from .errors import QueryFailedError
from .results import Fetched, RowCollector

__all__ = ["Fetched", "execute_write", "fetch_read_only"]

DEFAULT_MAX_VALUE_BYTES = 1_000_000


def fetch_read_only(
    engine: Engine,
    sql: str,
    *,
    limit: int,
    timeout: float,
    max_chars: int = 100_000,
    max_cell_chars: int = 500,
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
    readable_tables: Collection[str] | None = None,
) -> Fetched:
    """Run one query read-only and take at most `limit` rows and about `max_chars` characters."""
    dialect = engine.dialect.name
    with _checked_out(engine, timeout, max_value_bytes) as raw:
        conn = _dbapi(raw)
        if dialect == "sqlite":
            with sqlite_session.sqlite_guarded(
                conn, timeout=timeout, max_value_bytes=max_value_bytes, readable=readable_tables
            ):
                cursor = conn.cursor()
                try:
                    cursor.execute(sqlite_session.probe_query(sql))
                    columns = [d[0] for d in cursor.description or ()]
                    cursor.execute(
                        sqlite_session.capped_query(
                            sql, len(columns), limit=limit + 1, max_cell_chars=max_cell_chars
                        )
                    )
                    return RowCollector(columns, max_rows=limit, max_chars=max_chars).collect(
                        cursor
                    )
                finally:
                    cursor.close()
                    conn.rollback()
        if dialect == "postgresql":
            driver = engine.dialect.driver
            with postgres_session.postgres_transaction(
                conn, timeout=timeout, read_only=True, driver=driver
            ) as cursor:
                postgres_session.run(cursor, postgres_session.probe_query(sql), driver=driver)
                columns = [d[0] for d in cursor.description or ()]
                type_codes = [d[1] for d in cursor.description or ()]
                capped = postgres_session.capped_query(
                    sql, type_codes, limit=limit + 1, max_cell_chars=max_cell_chars
                )
                postgres_session.run(cursor, capped, driver=driver)
                return RowCollector(columns, max_rows=limit, max_chars=max_chars).collect(cursor)
        cursor = raw.cursor()
        try:
            cursor.execute(f"SELECT * FROM ({sql}) AS selectools_q LIMIT {limit + 1}")
            columns = [d[0] for d in cursor.description or ()]
            collector = RowCollector(
                columns, max_rows=limit, max_chars=max_chars, max_cell_chars=max_cell_chars
            )
            return collector.collect(cursor)
        finally:
            cursor.close()
            raw.rollback()  # a read-only call never commits anything


def execute_write(
    engine: Engine,
    sql: str,
    *,
    writable: Collection[str],
    timeout: float,
    readable: Collection[str] | None = None,
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
) -> int:
    """Run one checked write and commit it; returns the affected row count."""
    dialect = engine.dialect.name
    with _checked_out(engine, timeout, max_value_bytes) as raw:
        conn = _dbapi(raw)
        if dialect == "sqlite":
            with sqlite_session.sqlite_guarded(
                conn,
                timeout=timeout,
                max_value_bytes=max_value_bytes,
                readable=readable,
                writable=writable,
            ):
                cursor = conn.cursor()
                try:
                    cursor.execute(sql)
                    count = int(cursor.rowcount)
                    conn.commit()
                    return count
                finally:
                    cursor.close()
                    conn.rollback()  # a no-op after the commit; undoes a failed write
        if dialect == "postgresql":
            with postgres_session.postgres_transaction(
                conn, timeout=timeout, read_only=False, driver=engine.dialect.driver
            ) as cursor:
                postgres_session.run(cursor, sql, driver=engine.dialect.driver)
                count = int(cursor.rowcount)
                cursor.execute("COMMIT")
                return count
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            count = int(cursor.rowcount)
            raw.commit()
            return count
        except Exception:
            raw.rollback()
            raise
        finally:
            cursor.close()


@contextmanager
def _checked_out(engine: Engine, timeout: float, max_value_bytes: int) -> Iterator[Any]:
    """A pooled connection; any failure becomes a QueryFailedError the model can act on."""
    raw = engine.raw_connection()
    try:
        yield raw
    except postgres_session.ConnectionLeftUnclean as exc:
        raw.invalidate()  # it may still hold the transaction or a lock: never reuse it
        raise _failed(exc.args[0], timeout, max_value_bytes) from None
    except QueryFailedError:
        raise
    except Exception as exc:
        raise _failed(exc, timeout, max_value_bytes) from None
    finally:
        raw.close()  # back to the pool


def _dbapi(raw: Any) -> Any:
    return getattr(raw, "driver_connection", None) or raw.dbapi_connection


def _failed(exc: BaseException, timeout: float, max_value_bytes: int) -> QueryFailedError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = text.lower()
    if (
        "interrupted" in lowered
        or "statement timeout" in lowered
        or "lock timeout" in lowered
        or "canceling statement" in lowered
    ):
        return QueryFailedError(
            f"The query was stopped after {timeout:g} s. Make it cheaper: filter, aggregate "
            f"or add a LIMIT."
        )
    if "string or blob too big" in lowered:
        return QueryFailedError(
            f"A value in this query is larger than {max_value_bytes} bytes, the most this tool "
            f"builds or reads at once. Leave that column or expression out, or build a smaller "
            f"value."
        )
    if "not authorized" in lowered or "prohibited" in lowered or "read-only" in lowered:
        return QueryFailedError(f"The database refused the statement: {text}.")
    return QueryFailedError(f"The database rejected the query: {text}")
