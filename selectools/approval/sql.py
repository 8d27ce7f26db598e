"""Pending approvals in a table beside the SQLAlchemy session tables.

One row per paused run. Deciding is one conditional UPDATE
(`... WHERE id = :id AND status = 'pending'`): the database lets exactly
one of any number of concurrent deciders change the row, in any process.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..bridge import run_in_thread
from ..extras import require
from ..sql_schema import create_tables
from .records import PendingApproval

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SQLAlchemyApprovalStore"]


class SQLAlchemyApprovalStore:
    """`{table_prefix}approvals` in the session store's database (created if missing)."""

    def __init__(
        self, engine: Engine, *, table_prefix: str = "selectools_", create_tables: bool = True
    ) -> None:
        sa = require("sqlalchemy", extra="sql", feature="SQLAlchemyApprovalStore")
        self.engine = engine
        self.table_prefix = table_prefix
        self.metadata = sa.MetaData()
        self.table = sa.Table(
            f"{table_prefix}approvals",
            self.metadata,
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("run_id", sa.String(64), nullable=False, index=True),
            sa.Column("session_id", sa.String(255), nullable=True, index=True),
            sa.Column("owner", sa.String(255), nullable=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
            sa.Column("decided_at", sa.Float, nullable=True),
            sa.Column("data", sa.Text, nullable=False),
        )
        if create_tables:
            self.create_schema()

    def create_schema(self) -> None:
        create_tables(self.engine, self.metadata, f"selectools-approvals:{self.table_prefix}")

    def save(self, record: PendingApproval) -> None:
        import sqlalchemy as sa

        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(self.table).values(
                    id=record.id,
                    run_id=record.run_id,
                    session_id=record.session_id,
                    owner=record.identity,
                    status=record.status,
                    created_at=record.created_at,
                    data=record.to_json(),
                )
            )

    def find(self, key: str) -> PendingApproval | None:
        import sqlalchemy as sa

        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.c.data, t.c.status).where(t.c.id == key)).first()
            if row is None:
                row = conn.execute(
                    sa.select(t.c.data, t.c.status)
                    .where(t.c.status == "pending")
                    .where(sa.or_(t.c.run_id == key, t.c.session_id == key))
                    .order_by(t.c.created_at.desc())
                    .limit(1)
                ).first()
        if row is None:
            return None
        record = PendingApproval.from_json(row.data)
        return record if row.status == "pending" else record.decided()

    def take(self, approval_id: str) -> bool:
        import sqlalchemy as sa

        t = self.table
        with self.engine.begin() as conn:
            changed = conn.execute(
                sa.update(t)
                .where(t.c.id == approval_id)
                .where(t.c.status == "pending")
                .values(status="decided", decided_at=time.time())
            )
            return changed.rowcount == 1

    async def asave(self, record: PendingApproval) -> None:
        await run_in_thread(self.save, record)

    async def afind(self, key: str) -> PendingApproval | None:
        return await run_in_thread(self.find, key)

    async def atake(self, approval_id: str) -> bool:
        return await run_in_thread(self.take, approval_id)
