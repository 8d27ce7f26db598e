"""Sessions in any SQLAlchemy database: SQLite by default, PostgreSQL for many workers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..bridge import run_in_thread
from ..extras import require
from ..messages import Message
from .base import StoredSession

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SQLAlchemySessionStore"]

DEFAULT_URL = "sqlite:///selectools_sessions.db"


class SQLAlchemySessionStore:
    """Conversations as rows: one per session, one per message.

    Appends lock the session row (`UPDATE ... message_count + n`) before
    inserting, so concurrent writers from any number of processes keep whole
    batches together and never lose a message.
    """

    def __init__(
        self,
        url_or_engine: str | Engine = DEFAULT_URL,
        *,
        table_prefix: str = "selectools_",
        create_tables: bool = True,
    ) -> None:
        sa = require("sqlalchemy", extra="sql", feature="SQLAlchemySessionStore")
        if isinstance(url_or_engine, str):
            connect_args = {"timeout": 30} if url_or_engine.startswith("sqlite") else {}
            self.engine = sa.create_engine(url_or_engine, connect_args=connect_args)
        else:
            self.engine = url_or_engine
        metadata = sa.MetaData()
        self._sessions = sa.Table(
            f"{table_prefix}sessions",
            metadata,
            sa.Column("id", sa.String(255), primary_key=True),
            sa.Column("owner", sa.String(255), nullable=True),
            sa.Column("message_count", sa.Integer, nullable=False, default=0),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
        self._messages = sa.Table(
            f"{table_prefix}messages",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column(
                "session_id",
                sa.String(255),
                sa.ForeignKey(f"{table_prefix}sessions.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("data", sa.Text, nullable=False),
            sa.UniqueConstraint("session_id", "seq"),
        )
        self.metadata = metadata
        if create_tables:
            metadata.create_all(self.engine, checkfirst=True)

    def load(self, session_id: str) -> StoredSession | None:
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(self._sessions.c.owner).where(self._sessions.c.id == session_id)
            ).first()
            if row is None:
                return None
            data = conn.execute(
                sa.select(self._messages.c.data)
                .where(self._messages.c.session_id == session_id)
                .order_by(self._messages.c.seq)
            ).scalars()
            messages = tuple(Message.from_dict(json.loads(item)) for item in data)
        return StoredSession(session_id, messages, row.owner)

    def append(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        import sqlalchemy as sa

        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            self._ensure_session(conn, session_id, owner, now)
            count = len(messages)
            conn.execute(  # takes the row lock: concurrent appends queue here
                sa.update(self._sessions)
                .where(self._sessions.c.id == session_id)
                .values(message_count=self._sessions.c.message_count + count, updated_at=now)
            )
            end = conn.execute(
                sa.select(self._sessions.c.message_count).where(self._sessions.c.id == session_id)
            ).scalar_one()
            if count:
                conn.execute(
                    sa.insert(self._messages),
                    [
                        {
                            "session_id": session_id,
                            "seq": end - count + offset,
                            "data": json.dumps(message.to_dict(), ensure_ascii=False),
                        }
                        for offset, message in enumerate(messages)
                    ],
                )

    def delete(self, session_id: str) -> bool:
        import sqlalchemy as sa

        with self.engine.begin() as conn:
            conn.execute(sa.delete(self._messages).where(self._messages.c.session_id == session_id))
            deleted = conn.execute(
                sa.delete(self._sessions).where(self._sessions.c.id == session_id)
            )
            return bool(deleted.rowcount)

    async def aload(self, session_id: str) -> StoredSession | None:
        return await run_in_thread(self.load, session_id)

    async def aappend(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        await run_in_thread(lambda: self.append(session_id, messages, owner=owner))

    async def adelete(self, session_id: str) -> bool:
        return await run_in_thread(self.delete, session_id)

    def _ensure_session(self, conn: Any, session_id: str, owner: str | None, now: datetime) -> None:
        import sqlalchemy as sa

        values = {
            "id": session_id,
            "owner": owner,
            "message_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        dialect = conn.dialect.name
        if dialect in ("postgresql", "sqlite"):
            module = require(
                f"sqlalchemy.dialects.{dialect}", extra="sql", feature="SQLAlchemySessionStore"
            )
            conn.execute(module.insert(self._sessions).values(values).on_conflict_do_nothing())
            return
        exists = conn.execute(
            sa.select(self._sessions.c.id).where(self._sessions.c.id == session_id)
        ).first()
        if exists is None:
            conn.execute(sa.insert(self._sessions).values(values))
