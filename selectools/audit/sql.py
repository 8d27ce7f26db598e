"""Audit records as rows of one SQL table (SQLAlchemy): SQLite for one process, PostgreSQL for many.

The table is created at start if missing (on PostgreSQL under an advisory
lock, so many workers starting at once do not race), or ahead of a deploy
with `create_tables=False` and the DDL from `ddl()`. Each record is one
INSERT in its own transaction; listing pages by the row id, newest first.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..extras import require
from ..sql_schema import create_tables, engine_for
from ..unicode import storable
from .records import AuditRecord
from .sinks import AuditQuery

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SQLAuditSink"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class SQLAuditSink:
    """Write audit records to `table` in the database at `url_or_engine`; list them back."""

    def __init__(
        self,
        url_or_engine: str | Engine = "sqlite:///selectools_audit.db",
        *,
        table: str = "selectools_audit",
        create_tables: bool = True,
    ) -> None:
        sa = require("sqlalchemy", extra="sql", feature="SQLAuditSink")
        if not _NAME.match(table):
            raise ValueError(
                f"table {table!r} must be letters, digits and '_' (at most 63), "
                f"starting with a letter or '_'."
            )
        self.engine = engine_for(url_or_engine)
        self.metadata = sa.MetaData()
        self.table = sa.Table(
            table,
            self.metadata,
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("time", sa.DateTime(timezone=True), nullable=False),
            sa.Column("identity", sa.String(255), nullable=True),
            sa.Column("session_id", sa.String(255), nullable=True),
            sa.Column("run_id", sa.String(64), nullable=False),
            sa.Column("call_id", sa.String(255), nullable=False),
            sa.Column("tool", sa.String(255), nullable=False),
            sa.Column("arguments", sa.Text, nullable=False),
            sa.Column("outcome", sa.String(32), nullable=False),
            sa.Column("error_type", sa.String(128), nullable=True),
            sa.Column("duration_ms", sa.Float, nullable=False),
            sa.Column("reason", sa.Text, nullable=True),
            sa.Index(f"{table}_identity_id", "identity", "id"),
            sa.Index(f"{table}_session_id", "session_id", "id"),
        )
        if create_tables:
            self.create_schema()

    def create_schema(self) -> None:
        """Create the table if missing; safe when many workers start at once."""
        create_tables(self.engine, self.metadata, f"selectools:{self.table.name}")

    def ddl(self) -> str:
        """The CREATE statements for the table and its indexes, for a migration tool."""
        from sqlalchemy.schema import CreateIndex, CreateTable

        statements = [str(CreateTable(self.table).compile(self.engine)).strip()]
        statements += [str(CreateIndex(i).compile(self.engine)) for i in self.table.indexes]
        return ";\n\n".join(statements) + ";\n"

    def write(self, record: AuditRecord) -> None:
        row: dict[str, Any] = {
            key: storable(value) if isinstance(value, str) else value
            for key, value in record.to_dict().items()
        }  # a NUL or a lone surrogate from a caller or a model never loses the record
        row.pop("id")
        row["time"] = record.time
        row["arguments"] = json.dumps(row["arguments"], ensure_ascii=True, default=str)
        with self.engine.begin() as conn:
            conn.execute(self.table.insert().values(**row))

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        import sqlalchemy as sa

        table = self.table
        statement = sa.select(table).order_by(table.c.id.desc()).limit(query.limit)
        if not query.everyone:
            statement = statement.where(
                table.c.identity.is_(None)
                if query.identity is None
                else table.c.identity == query.identity
            )
        if query.session_id is not None:
            statement = statement.where(table.c.session_id == query.session_id)
        if query.tool is not None:
            statement = statement.where(table.c.tool == query.tool)
        if query.before is not None:
            statement = statement.where(table.c.id < query.before)
        with self.engine.connect() as conn:
            rows = conn.execute(statement).mappings().all()
        return [
            AuditRecord.from_dict({**row, "arguments": json.loads(row["arguments"])})
            for row in rows
        ]

    def close(self) -> None:
        self.engine.dispose()
