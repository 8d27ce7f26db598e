"""SQLToolkit: list tables, describe them, query them (and, only if asked, write to some)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from selectools import Tool
from selectools.tools import method_tool

from .errors import QueryRefusedError
from .guard import check_read_only, check_write
from .sandbox import Fetched, execute_write, fetch_read_only

__all__ = ["SQLToolkit"]

_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mssql": "tsql"}


class SQLToolkit:
    """Tools over one database, bound at construction: the model never picks the database.

    Read-only by default, enforced three times: the statement is parsed and
    classified (sqlglot), the database refuses writes by itself, and a statement
    timeout stops slow queries. Results are capped by rows and characters and the
    model is told when they were cut. The strongest layer is yours to add: connect
    with a database role that can only SELECT.

    Args:
        engine_or_url: a SQLAlchemy Engine or URL.
        include_tables: the only tables the tools may see and read.
        max_rows: rows returned by one query at most.
        max_chars: characters of one result at most; max_cell_chars per cell.
        sample_rows: example rows shown by the describe tool.
        timeout: seconds one statement may run.
        writable_tables: enables the write tool, for these tables only.
        name_prefix: prepended to tool names, for several databases in one agent.
    """

    def __init__(
        self,
        engine_or_url: Engine | str,
        *,
        include_tables: Collection[str] | None = None,
        max_rows: int = 50,
        max_chars: int = 8_000,
        max_cell_chars: int = 500,
        sample_rows: int = 3,
        timeout: float = 10.0,
        writable_tables: Collection[str] = (),
        name_prefix: str = "",
    ) -> None:
        self.engine = (
            sa.create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        )
        self.dialect = _DIALECTS.get(self.engine.dialect.name, self.engine.dialect.name)
        self.include_tables = (
            frozenset(t.lower() for t in include_tables) if include_tables is not None else None
        )
        self.max_rows = max_rows
        self.max_chars = max_chars
        self.max_cell_chars = max_cell_chars
        self.sample_rows = sample_rows
        self.timeout = timeout
        self.writable_tables = frozenset(t.lower() for t in writable_tables)
        self.name_prefix = name_prefix

    def __repr__(self) -> str:
        return f"SQLToolkit({self.engine.url.render_as_string(hide_password=True)!r})"

    def tools(self) -> list[Tool]:
        """The tools to give an Agent; the write tool only when writable_tables is set."""
        made = [
            self._tool(self.list_tables),
            self._tool(self.describe_tables),
            self._tool(self.run_query),
        ]
        if self.writable_tables:
            made.append(self._tool(self.execute_write))
        return made

    def _tool(self, method: Any) -> Tool:
        return method_tool(method, prefix=self.name_prefix)

    # -- the tools ---------------------------------------------------------------

    def list_tables(self) -> list[str]:
        """List the tables (and views) you can query."""
        inspector = sa.inspect(self.engine)
        names = [*inspector.get_table_names(), *inspector.get_view_names()]
        return sorted(n for n in names if self._visible(n))

    def describe_tables(self, table_names: list[str]) -> dict[str, Any]:
        """Describe tables: columns with types, primary and foreign keys, a few sample rows.

        Args:
            table_names: the tables to describe, from list_tables
        """
        inspector = sa.inspect(self.engine)
        known = {n.lower(): n for n in self.list_tables()}
        described: dict[str, Any] = {}
        for requested in table_names:
            name = known.get(requested.lower())
            if name is None:
                listing = ", ".join(sorted(known.values()))
                raise QueryRefusedError(f"Unknown table '{requested}'. Known tables: {listing}.")
            columns = [
                {
                    "name": c["name"],
                    "type": str(c["type"]),
                    "nullable": bool(c.get("nullable", True)),
                }
                for c in inspector.get_columns(name)
            ]
            foreign_keys = [
                {
                    "columns": fk["constrained_columns"],
                    "references": f"{fk['referred_table']}({', '.join(fk['referred_columns'])})",
                }
                for fk in inspector.get_foreign_keys(name)
            ]
            sample = self._fetch(f"SELECT * FROM {self._quote(name)}", self.sample_rows)
            described[name] = {
                "columns": columns,
                "primary_key": inspector.get_pk_constraint(name).get("constrained_columns", []),
                "foreign_keys": foreign_keys,
                "sample_rows": self._rows_as_dicts(sample),
            }
        return described

    def run_query(self, sql: str) -> dict[str, Any]:
        """Run one read-only SQL query (SELECT or WITH ... SELECT) and return its rows.

        Results are capped; if `truncated` is true, aggregate or filter instead of
        paging through everything.

        Args:
            sql: one SELECT statement in the database's dialect
        """
        checked = check_read_only(sql, dialect=self.dialect, allowed_tables=self.include_tables)
        wrapped = f"SELECT * FROM ({checked.sql}) AS selectools_q LIMIT {self.max_rows + 1}"
        fetched = self._fetch(wrapped, self.max_rows)
        return self._result(fetched)

    def execute_write(self, sql: str) -> dict[str, Any]:
        """Run one INSERT, UPDATE or DELETE on a table you may change, and commit it.

        Args:
            sql: one INSERT, UPDATE or DELETE statement
        """
        checked = check_write(
            sql,
            dialect=self.dialect,
            writable_tables=self.writable_tables,
            readable_tables=self.include_tables,
        )
        count = execute_write(
            self.engine, checked.sql, writable=self.writable_tables, timeout=self.timeout
        )
        return {"rows_affected": count}

    # -- helpers -----------------------------------------------------------------

    def _visible(self, name: str) -> bool:
        return self.include_tables is None or name.lower() in self.include_tables

    def _quote(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    def _fetch(self, sql: str, limit: int) -> Fetched:
        return fetch_read_only(self.engine, sql, limit=limit, timeout=self.timeout)

    def _cell(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            return f"<{len(bytes(value))} bytes>"
        text = str(value)
        if len(text) > self.max_cell_chars:
            return (
                text[: self.max_cell_chars]
                + f"... [{len(text) - self.max_cell_chars} more characters]"
            )
        return text

    def _rows_as_dicts(self, fetched: Fetched) -> list[dict[str, Any]]:
        return [
            dict(zip(fetched.columns, map(self._cell, row), strict=False)) for row in fetched.rows
        ]

    def _result(self, fetched: Fetched) -> dict[str, Any]:
        rows: list[list[Any]] = []
        used = 0
        cut_by_chars = False
        for row in fetched.rows:
            cells = [self._cell(v) for v in row]
            size = sum(len(str(c)) for c in cells) + 2 * len(cells)
            if rows and used + size > self.max_chars:
                cut_by_chars = True
                break
            rows.append(cells)
            used += size
        truncated = fetched.more or cut_by_chars
        result: dict[str, Any] = {
            "columns": fetched.columns,
            "rows": rows,
            "row_count": len(rows),
            "truncated": truncated,
        }
        if truncated:
            limit = f"{self.max_chars} characters" if cut_by_chars else f"{self.max_rows} rows"
            result["note"] = (
                f"Only the first {len(rows)} rows are shown (limit: {limit}). "
                f"Aggregate, filter or select fewer columns to see the rest."
            )
        return result
