"""Analytics facts as rows of two SQL tables (SQLAlchemy): SQLite for one process,
PostgreSQL for many workers reporting together.

Tables `{prefix}_tools` and `{prefix}_runs` are created at start if missing
(on PostgreSQL under an advisory lock, so workers starting at once do not
race). A report reads the newest `max_rows` facts of each kind that match its
filter and computes percentiles in Python, the same way for every database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..extras import require
from ..sql_schema import create_tables, engine_for
from .facts import AnalyticsQuery, RunFact, ToolFact

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SQLAnalyticsStore"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,50}$")


class SQLAnalyticsStore:
    """Facts in the database at `url_or_engine`, under tables named `{prefix}_tools/_runs`."""

    def __init__(
        self,
        url_or_engine: str | Engine = "sqlite:///selectools_analytics.db",
        *,
        prefix: str = "selectools_analytics",
        create_tables: bool = True,
        max_rows: int = 100_000,
    ) -> None:
        sa = require("sqlalchemy", extra="sql", feature="SQLAnalyticsStore")
        if not _NAME.match(prefix):
            raise ValueError(
                f"prefix {prefix!r} must be letters, digits and '_' (at most 51), "
                f"starting with a letter or '_'."
            )
        self.engine = engine_for(url_or_engine)
        self.max_rows = max_rows
        self.metadata = sa.MetaData()
        key = sa.BigInteger().with_variant(sa.Integer, "sqlite")
        self.tools = sa.Table(
            f"{prefix}_tools",
            self.metadata,
            sa.Column("id", key, primary_key=True),
            sa.Column("time", sa.Float, nullable=False),
            sa.Column("tool", sa.String(255), nullable=False),
            sa.Column("ok", sa.Boolean, nullable=False),
            sa.Column("error_type", sa.String(128), nullable=True),
            sa.Column("duration_ms", sa.Float, nullable=False),
            sa.Column("identity", sa.String(255), nullable=True),
            sa.Column("session_id", sa.String(255), nullable=True),
            sa.Index(f"{prefix}_tools_identity", "identity", "id"),
        )
        self.runs = sa.Table(
            f"{prefix}_runs",
            self.metadata,
            sa.Column("id", key, primary_key=True),
            sa.Column("time", sa.Float, nullable=False),
            sa.Column("ok", sa.Boolean, nullable=False),
            sa.Column("error_type", sa.String(128), nullable=True),
            sa.Column("identity", sa.String(255), nullable=True),
            sa.Column("session_id", sa.String(255), nullable=True),
            sa.Column("input_tokens", sa.BigInteger, nullable=False),
            sa.Column("output_tokens", sa.BigInteger, nullable=False),
            sa.Column("cost_usd", sa.Float, nullable=True),
            sa.Index(f"{prefix}_runs_identity", "identity", "id"),
        )
        self._prefix = prefix
        if create_tables:
            self.create_schema()

    def __repr__(self) -> str:
        return f"SQLAnalyticsStore({self.engine.url.render_as_string()!r}, prefix={self._prefix!r})"

    def create_schema(self) -> None:
        """Create the tables if missing; safe when many workers start at once."""
        create_tables(self.engine, self.metadata, f"selectools:{self._prefix}")

    def add_run(self, fact: RunFact, tools: Sequence[ToolFact] = ()) -> None:
        """The run and its tool calls in one transaction."""
        with self.engine.begin() as conn:
            if tools:
                conn.execute(self.tools.insert(), [_row(tool) for tool in tools])
            conn.execute(self.runs.insert().values(**_row(fact)))

    def add_tools(self, tools: Sequence[ToolFact]) -> None:
        if tools:
            with self.engine.begin() as conn:
                conn.execute(self.tools.insert(), [_row(tool) for tool in tools])

    def facts(self, query: AnalyticsQuery) -> tuple[list[ToolFact], list[RunFact]]:
        with self.engine.connect() as conn:
            tools = conn.execute(self._select(self.tools, query)).mappings().all()
            runs = conn.execute(self._select(self.runs, query)).mappings().all()
        return (
            [ToolFact(**_fields(row, ToolFact)) for row in tools],
            [RunFact(**_fields(row, RunFact)) for row in runs],
        )

    def _select(self, table: Any, query: AnalyticsQuery) -> Any:
        import sqlalchemy as sa

        statement = sa.select(table).order_by(table.c.id.desc()).limit(self.max_rows)
        if not query.everyone:
            statement = statement.where(
                table.c.identity.is_(None)
                if query.identity is None
                else table.c.identity == query.identity
            )
        if query.session_id is not None:
            statement = statement.where(table.c.session_id == query.session_id)
        if query.since is not None:
            statement = statement.where(table.c.time >= query.since)
        return statement

    def close(self) -> None:
        self.engine.dispose()


def _row(fact: ToolFact | RunFact) -> dict[str, Any]:
    return {name: getattr(fact, name) for name in fact.__dataclass_fields__}


def _fields(row: Any, kind: type[ToolFact] | type[RunFact]) -> dict[str, Any]:
    return {name: row[name] for name in kind.__dataclass_fields__}
