"""SQLToolkit: list tables, describe them, query them (and, only if asked, write to some)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from selectools import Tool
from selectools.tools import method_tool
from selectools.tools.toolkit import Toolkit

from . import roles
from .errors import PrivilegedRoleError, QueryRefusedError
from .guard import check_read_only, check_write, normalize_table_names
from .results import Fetched, tool_result
from .sandbox import DEFAULT_MAX_VALUE_BYTES, execute_write, fetch_read_only

__all__ = ["SQLToolkit"]

_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mssql": "tsql"}
_ENFORCING_DIALECTS = frozenset({"sqlite", "postgresql"})


class SQLToolkit(Toolkit):
    """Tools over one database, bound at construction: the model never picks the database.

    Read-only by default, enforced in layers: the statement is parsed and
    checked (one query, allowlisted functions, listed tables); the database
    refuses writes itself (SQLite authorizer, PostgreSQL read-only
    transaction) and stops slow statements; on PostgreSQL the toolkit refuses
    to connect as a role that could write or reach files. Results are capped
    by rows and characters, cut in the query, and the model is told when.

    Args:
        engine_or_url: a SQLAlchemy Engine or URL (an engine made from a URL is
            disposed by `close()`).
        include_tables: the only tables the tools may see and read, as written
            in SQL (`orders`, `"Orders"`, `sales.orders`).
        max_rows: rows returned by one query at most.
        max_chars: characters of one result's rows at most; max_cell_chars per value.
        max_value_bytes: the largest string or blob SQLite may build or read
            while a query runs (memory follows this, not the data).
        sample_rows: example rows shown by the describe tool.
        timeout: seconds one statement may run.
        writable_tables: enables the write tool, for these tables only.
        name_prefix: prepended to tool names, for several databases in one agent.
        require_approval: write tools pause the run until a person approves each
            call (see `selectools.approval`, default); False lets them run unasked.
        allow_privileged_role: connect even as a superuser or a role that may
            write to the tables it reads (PostgreSQL), or to a database whose
            role cannot be checked (other than SQLite and PostgreSQL).
    """

    def __init__(
        self,
        engine_or_url: Engine | str,
        *,
        include_tables: Collection[str] | None = None,
        max_rows: int = 50,
        max_chars: int = 8_000,
        max_cell_chars: int = 500,
        max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES,
        sample_rows: int = 3,
        timeout: float = 10.0,
        writable_tables: Collection[str] = (),
        name_prefix: str = "",
        allow_privileged_role: bool = False,
        require_approval: bool = True,
    ) -> None:
        self._owns_engine = isinstance(engine_or_url, str)
        self.engine: Engine = (
            sa.create_engine(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url
        )
        self.name = f"{name_prefix}sql"
        self.dialect = _DIALECTS.get(self.engine.dialect.name, self.engine.dialect.name)
        self.include_tables = normalize_table_names(include_tables, self.dialect)
        self.writable_tables = normalize_table_names(writable_tables, self.dialect) or frozenset()
        self.max_rows = max_rows
        self.max_chars = max_chars
        self.max_cell_chars = max_cell_chars
        self.max_value_bytes = max_value_bytes
        self.sample_rows = sample_rows
        self.timeout = timeout
        self.name_prefix = name_prefix
        self.require_approval = require_approval
        try:
            self._check_connection(allow_privileged_role)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"SQLToolkit({self.engine.url.render_as_string(hide_password=True)!r})"

    @staticmethod
    def create_reader_role_sql(
        tables: Iterable[str],
        *,
        role: str = "agent_reader",
        database: str | None = None,
        schema: str = "public",
        password: str | None = None,
        statement_timeout: float | None = 10.0,
    ) -> str:
        """SQL for a PostgreSQL login that can only read `tables`: the recommended way to
        connect the toolkit. Run it once as an admin; see `roles.create_reader_role_sql`."""
        return roles.create_reader_role_sql(
            tables,
            role=role,
            database=database,
            schema=schema,
            password=password,
            statement_timeout=statement_timeout,
        )

    def tools(self) -> list[Tool]:
        """The tools to give an Agent; the write tool only when writable_tables is set."""
        made: list[Tool] = [
            method_tool(self.list_tables, prefix=self.name_prefix),
            method_tool(self.describe_tables, prefix=self.name_prefix),
            method_tool(self.run_query, prefix=self.name_prefix),
        ]
        if self.writable_tables:
            made.append(
                method_tool(
                    self.execute_write,
                    prefix=self.name_prefix,
                    writes=True,
                    requires_approval=self.require_approval,
                )
            )
        return made

    def close(self) -> None:
        """Dispose of the engine if the toolkit created it (an engine passed in stays yours)."""
        if self._owns_engine:
            self.engine.dispose()

    # -- the tools ---------------------------------------------------------------

    def list_tables(self) -> list[str]:
        """List the tables (and views) you can query."""
        inspector = sa.inspect(self.engine)
        names = [*inspector.get_table_names(), *inspector.get_view_names()]
        return sorted(n for n in names if self._visible(n))

    def describe_tables(self, table_names: Sequence[str]) -> dict[str, Any]:
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
                "sample_rows": [
                    dict(zip(sample.columns, row, strict=False)) for row in sample.rows
                ],
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
        fetched = self._fetch(checked.sql, self.max_rows)
        return tool_result(fetched, max_rows=self.max_rows, max_chars=self.max_chars)

    def execute_write(self, sql: str) -> dict[str, Any]:
        """Run one INSERT, UPDATE or DELETE on a table you may change, and commit it.

        Args:
            sql: one INSERT, UPDATE or DELETE statement
        """
        if not self.writable_tables:
            raise QueryRefusedError("This toolkit is read-only: no table may be written to.")
        checked = check_write(
            sql,
            dialect=self.dialect,
            writable_tables=self.writable_tables,
            readable_tables=self.include_tables,
        )
        count = execute_write(
            self.engine,
            checked.sql,
            writable=self.writable_tables,
            readable=self.include_tables,
            timeout=self.timeout,
            max_value_bytes=self.max_value_bytes,
        )
        return {"rows_affected": count}

    # -- helpers -----------------------------------------------------------------

    def _check_connection(self, allow_privileged_role: bool) -> None:
        name = self.engine.dialect.name
        if name == "sqlite" and self.engine.dialect.driver != "pysqlite":
            raise ValueError(
                f"SQLToolkit needs SQLite's standard sqlite3 driver (sqlite:///...), got "
                f"{self.engine.dialect.driver!r}: its authorizer and limits enforce read-only."
            )
        if allow_privileged_role:
            if name not in _ENFORCING_DIALECTS and _autocommit(self.engine):
                raise ValueError(
                    f"This engine runs in AUTOCOMMIT isolation, so on {name} a read could not be "
                    f"rolled back. Give SQLToolkit an engine without isolation_level='AUTOCOMMIT'."
                )
            return
        if name == "postgresql":
            roles.check_role(
                self.engine,
                include_tables=self.include_tables,
                writable_tables=self.writable_tables,
            )
        elif name != "sqlite":
            raise PrivilegedRoleError(
                f"SQLToolkit checks the database role on PostgreSQL only. On {name}, connect as "
                f"a user that can only SELECT the listed tables, then pass "
                f"allow_privileged_role=True to say so."
            )

    def _visible(self, name: str) -> bool:
        if self.include_tables is None:
            return True
        return (name.lower() if self.dialect == "sqlite" else name) in self.include_tables

    def _quote(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote(name))

    def _fetch(self, sql: str, limit: int) -> Fetched:
        return fetch_read_only(
            self.engine,
            sql,
            limit=limit,
            timeout=self.timeout,
            max_chars=self.max_chars,
            max_cell_chars=self.max_cell_chars,
            max_value_bytes=self.max_value_bytes,
            readable_tables=self.include_tables,
        )


def _autocommit(engine: Engine) -> bool:
    levels = (
        engine.get_execution_options().get("isolation_level"),
        getattr(engine.dialect, "isolation_level", None),
    )
    return "AUTOCOMMIT" in levels
