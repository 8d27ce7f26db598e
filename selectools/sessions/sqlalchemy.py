"""Sessions in any SQLAlchemy database: SQLite by default, PostgreSQL for many workers.

Create the schema ahead of a deploy (instead of at first start) with

    python -m selectools.sessions.sqlalchemy create-schema postgresql+psycopg://app@db/app

or print its DDL for your migration tool with `... print-ddl URL`; then pass
`create_tables=False`. Creating at start is safe too: on PostgreSQL an
advisory lock lets one of many workers starting at once create it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..bridge import run_in_thread
from ..extras import require
from ..messages import Message
from ..sql_schema import create_tables, engine_for
from .base import SessionSummary, StoredSession, encode_message, not_yours

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

__all__ = ["SQLAlchemySessionStore"]

DEFAULT_URL = "sqlite:///selectools_sessions.db"
_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")

# PostgreSQL: a turn is one statement (one round trip, atomic by itself). The upsert
# takes the session row's lock, so concurrent writers queue; its WHERE re-checks the
# owner, and the messages are inserted only if the session row was claimed or updated.
_PG_APPEND = """
WITH claimed AS (
    INSERT INTO {sessions} AS s (id, owner, message_count, created_at, updated_at)
    VALUES (:id, :owner, :n, :now, :now)
    ON CONFLICT (id) DO UPDATE
        SET message_count = s.message_count + :n, updated_at = :now
        WHERE s.owner IS NULL OR s.owner = :owner
    RETURNING s.message_count
), added AS (
    INSERT INTO {messages} (session_id, seq, data)
    SELECT :id, claimed.message_count - :n + m.ord - 1, m.data
    FROM claimed, unnest(CAST(:datas AS text[])) WITH ORDINALITY AS m(data, ord)
    RETURNING 1
)
SELECT (SELECT count(*) FROM claimed) AS claimed, (SELECT count(*) FROM added) AS added
"""


class SQLAlchemySessionStore:
    """Conversations as rows: one per session, one per message.

    On PostgreSQL a stored turn is one statement: an upsert of the session
    row (which locks it, so concurrent writers from any number of processes
    keep whole batches together) that re-checks the owner, and the insert
    of the messages. Other databases take the session row's lock with an
    UPDATE inside one transaction.
    """

    def __init__(
        self,
        url_or_engine: str | Engine = DEFAULT_URL,
        *,
        table_prefix: str = "selectools_",
        create_tables: bool = True,
    ) -> None:
        sa = require("sqlalchemy", extra="sql", feature="SQLAlchemySessionStore")
        if not _PREFIX.match(table_prefix):
            raise ValueError(
                f"table_prefix {table_prefix!r} must be letters, digits and '_' (at most 41), "
                f"starting with a letter or '_'."
            )
        self.engine = engine_for(url_or_engine)
        self.table_prefix = table_prefix
        self.metadata = metadata = sa.MetaData()
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
        self._postgres = self.engine.dialect.name == "postgresql"
        # Single statements need no transaction around them: one round trip each.
        self._autocommit = (
            self.engine.execution_options(isolation_level="AUTOCOMMIT")
            if self._postgres
            else self.engine
        )
        if self._postgres:
            preparer = self.engine.dialect.identifier_preparer
            self._pg_append = sa.text(
                _PG_APPEND.format(
                    sessions=preparer.quote(self._sessions.name),
                    messages=preparer.quote(self._messages.name),
                )
            )
        if create_tables:
            self.create_schema()

    def create_schema(self) -> None:
        """Create the tables if missing; safe when many workers start at once."""
        create_tables(self.engine, self.metadata, f"selectools:{self.table_prefix}")

    def ddl(self) -> str:
        """The CREATE statements for this store's tables, for a migration tool."""
        from sqlalchemy.schema import CreateIndex, CreateTable

        statements = []
        for table in self.metadata.sorted_tables:
            statements.append(str(CreateTable(table).compile(dialect=self.engine.dialect)))
            for index in table.indexes:
                statements.append(str(CreateIndex(index).compile(dialect=self.engine.dialect)))
        return ";\n".join(s.strip() for s in statements) + ";\n"

    # -- reads ---------------------------------------------------------------------

    def load(self, session_id: str) -> StoredSession | None:
        import sqlalchemy as sa

        s, m = self._sessions, self._messages
        query = (
            sa.select(s.c.owner, m.c.data)
            .select_from(s.outerjoin(m, m.c.session_id == s.c.id))
            .where(s.c.id == session_id)
            .order_by(m.c.seq)
        )
        with self._autocommit.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        messages = tuple(Message.from_dict(json.loads(r.data)) for r in rows if r.data is not None)
        return StoredSession.read(session_id, messages, rows[0].owner)

    def claim(self, session_id: str, owner: str) -> StoredSession:
        now = datetime.now(UTC)
        with self._autocommit.connect() as conn:
            created = self._insert_if_absent(conn, session_id, owner, now)
            conn.commit()
        if created:
            return StoredSession(session_id, (), owner, ())
        stored = self.load(session_id)
        return stored if stored is not None else self.claim(session_id, owner)  # deleted since

    # -- writes --------------------------------------------------------------------

    def append(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        now = datetime.now(UTC)
        datas = [encode_message(message) for message in messages]
        if self._postgres:
            params = {"id": session_id, "owner": owner, "n": len(datas), "now": now}
            with self._autocommit.connect() as conn:
                row = conn.execute(self._pg_append, {**params, "datas": datas}).one()
            if not row.claimed:
                raise not_yours(session_id)
            return
        with self.engine.begin() as conn:
            self._append_locked(conn, session_id, datas, owner, now)

    def _append_locked(
        self, conn: Connection, session_id: str, datas: list[str], owner: str | None, now: datetime
    ) -> None:
        import sqlalchemy as sa

        s = self._sessions
        self._insert_if_absent(conn, session_id, owner, now)
        count = len(datas)
        update = (  # takes the row lock: concurrent appends queue here
            sa.update(s)
            .where(s.c.id == session_id)
            .where(sa.or_(s.c.owner.is_(None), s.c.owner == owner))
            .values(message_count=s.c.message_count + count, updated_at=now)
        )
        if conn.dialect.update_returning:
            end = conn.execute(update.returning(s.c.message_count)).scalar()
        elif conn.execute(update).rowcount:
            end = conn.execute(sa.select(s.c.message_count).where(s.c.id == session_id)).scalar()
        else:
            end = None
        if end is None:
            raise not_yours(session_id)
        if datas:
            conn.execute(
                sa.insert(self._messages),
                [
                    {"session_id": session_id, "seq": end - count + offset, "data": data}
                    for offset, data in enumerate(datas)
                ],
            )

    def _insert_if_absent(
        self, conn: Connection, session_id: str, owner: str | None, now: datetime
    ) -> bool:
        """Create the session row unless it exists; True when this call created it."""
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
            insert = module.insert(self._sessions).values(values).on_conflict_do_nothing()
            return conn.execute(insert.returning(self._sessions.c.id)).first() is not None
        exists = conn.execute(
            sa.select(self._sessions.c.id).where(self._sessions.c.id == session_id)
        ).first()
        if exists is None:
            conn.execute(sa.insert(self._sessions).values(values))
        return exists is None

    def delete(self, session_id: str) -> bool:
        import sqlalchemy as sa

        with self.engine.begin() as conn:
            conn.execute(sa.delete(self._messages).where(self._messages.c.session_id == session_id))
            deleted = conn.execute(
                sa.delete(self._sessions).where(self._sessions.c.id == session_id)
            )
            return bool(deleted.rowcount)

    def list_owned(self, owner: str, limit: int = 50) -> list[SessionSummary]:
        """`owner`'s sessions, most recently changed first (one indexed-enough query)."""
        import sqlalchemy as sa

        s = self._sessions
        query = (
            sa.select(s.c.id, s.c.message_count, s.c.updated_at)
            .where(s.c.owner == owner)
            .order_by(s.c.updated_at.desc(), s.c.id)
            .limit(limit)
        )
        with self._autocommit.connect() as conn:
            rows = conn.execute(query).all()
        return [SessionSummary(r.id, r.message_count, r.updated_at) for r in rows]

    # -- async: the same calls in the tool thread pool -----------------------------

    async def aload(self, session_id: str) -> StoredSession | None:
        return await run_in_thread(self.load, session_id)

    async def aclaim(self, session_id: str, owner: str) -> StoredSession:
        return await run_in_thread(self.claim, session_id, owner)

    async def aappend(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        await run_in_thread(lambda: self.append(session_id, messages, owner=owner))

    async def adelete(self, session_id: str) -> bool:
        return await run_in_thread(self.delete, session_id)

    async def alist_owned(self, owner: str, limit: int = 50) -> list[SessionSummary]:
        return await run_in_thread(self.list_owned, owner, limit)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m selectools.sessions.sqlalchemy create-schema|print-ddl URL [--table-prefix P]`."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m selectools.sessions.sqlalchemy",
        description="Create the session tables ahead of a deploy, or print their DDL.",
    )
    parser.add_argument("command", choices=["create-schema", "print-ddl"])
    parser.add_argument("url", help="a SQLAlchemy URL, e.g. postgresql+psycopg://app@db/app")
    parser.add_argument("--table-prefix", default="selectools_")
    args = parser.parse_args(argv)
    store = SQLAlchemySessionStore(args.url, table_prefix=args.table_prefix, create_tables=False)
    if args.command == "print-ddl":
        print(store.ddl(), end="")
    else:
        store.create_schema()
        print(f"Created (or found) {', '.join(t.name for t in store.metadata.sorted_tables)}.")
    store.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
