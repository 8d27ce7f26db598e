"""Jobs in any SQLAlchemy database: SQLite for one machine, PostgreSQL for many workers.

Tables (under `table_prefix`, default "selectools_"): `jobs` (record, state,
cancel flag, lease), `job_items` (one row per answered item; its primary key
makes the first answer win), `job_events` (numbered by an autoincrement
column, so event numbers grow but are not consecutive per job) and
`job_journal`. Lease times are the workers' clocks (`time.time()`): keep
them in sync (NTP) as for any lease.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..extras import require
from ..sql_schema import create_tables as create_missing_tables
from ..sql_schema import engine_for
from .record import JobRecord, JobState
from .store import JobEvent

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SQLAlchemyJobStore"]


class SQLAlchemyJobStore:
    """`JobStore` on SQLAlchemy (`url` like "postgresql+psycopg://app@db/app")."""

    def __init__(
        self,
        url_or_engine: str | Engine,
        *,
        table_prefix: str = "selectools_",
        create_tables: bool = True,
    ) -> None:
        sa = require("sqlalchemy", extra="sql", feature="SQLAlchemyJobStore")
        self.engine = engine_for(url_or_engine)
        self._sa = sa
        metadata = sa.MetaData()
        self._jobs = sa.Table(
            f"{table_prefix}jobs",
            metadata,
            sa.Column("id", sa.String(64), primary_key=True),
            sa.Column("record", sa.Text, nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("done", sa.Integer, nullable=False, default=0),
            sa.Column("failed", sa.Integer, nullable=False, default=0),
            sa.Column("error", sa.Text, nullable=True),
            sa.Column("updated_at", sa.Float, nullable=False),
            sa.Column("cancel", sa.Boolean, nullable=False, default=False),
            sa.Column("lease_holder", sa.String(255), nullable=True),
            sa.Column("lease_until", sa.Float, nullable=True),
        )
        self._items = sa.Table(
            f"{table_prefix}job_items",
            metadata,
            sa.Column("job_id", sa.String(64), primary_key=True),
            sa.Column("idx", sa.Integer, primary_key=True),
            sa.Column("item", sa.Text, nullable=False),
        )
        self._events = sa.Table(
            f"{table_prefix}job_events",
            metadata,
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("job_id", sa.String(64), nullable=False, index=True),
            sa.Column("name", sa.String(64), nullable=False),
            sa.Column("data", sa.Text, nullable=False),
        )
        self._journal = sa.Table(
            f"{table_prefix}job_journal",
            metadata,
            sa.Column("job_id", sa.String(64), primary_key=True),
            sa.Column("step", sa.String(255), primary_key=True),
            sa.Column("output", sa.Text, nullable=False),
        )
        if create_tables:
            # many workers starting at once: one creates, the others find the tables
            create_missing_tables(self.engine, metadata, f"selectools:jobs:{table_prefix}")

    def __repr__(self) -> str:
        return f"SQLAlchemyJobStore({self.engine.url.render_as_string(hide_password=True)!r})"

    def create(self, record: JobRecord) -> None:
        row = {
            "id": record.id,
            "record": json.dumps(record.to_dict()),
            "status": "queued",
            "done": 0,
            "failed": 0,
            "updated_at": time.time(),
            "cancel": False,
        }
        with self.engine.begin() as db:
            db.execute(self._jobs.insert().values(**row))

    def _row(self, job_id: str) -> Any:
        with self.engine.connect() as db:
            return db.execute(self._jobs.select().where(self._jobs.c.id == job_id)).first()

    def record(self, job_id: str) -> JobRecord | None:
        row = self._row(job_id)
        return JobRecord.from_dict(json.loads(row.record)) if row is not None else None

    def state(self, job_id: str) -> JobState | None:
        row = self._row(job_id)
        if row is None:
            return None
        return JobState(
            status=row.status,
            done=row.done,
            failed=row.failed,
            error=row.error,
            updated_at=row.updated_at,
            cancel_requested=bool(row.cancel),
        )

    def _update(self, job_id: str, **values: Any) -> Any:
        return self._jobs.update().where(self._jobs.c.id == job_id).values(**values)

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        with self.engine.begin() as db:
            db.execute(self._update(job_id, status=status, error=error, updated_at=time.time()))

    def finish_item(self, job_id: str, index: int, item: Mapping[str, Any], ok: bool) -> bool:
        c = self._jobs.c
        try:
            with self.engine.begin() as db:  # the item and the counts together, or neither
                row = {"job_id": job_id, "idx": index, "item": json.dumps(item)}
                db.execute(self._items.insert().values(**row))
                counts = {"done": c.done + 1, "failed": c.failed + (0 if ok else 1)}
                db.execute(self._update(job_id, updated_at=time.time(), **counts))
        except self._sa.exc.IntegrityError:  # answered already: the first answer stays
            return False
        return True

    def items(self, job_id: str) -> dict[int, dict[str, Any]]:
        query = self._items.select().where(self._items.c.job_id == job_id)
        with self.engine.connect() as db:
            return {row.idx: json.loads(row.item) for row in db.execute(query)}

    def add_event(self, job_id: str, name: str, data: Mapping[str, Any]) -> int:
        row = {"job_id": job_id, "name": name, "data": json.dumps(data)}
        with self.engine.begin() as db:
            key = db.execute(self._events.insert().values(**row)).inserted_primary_key
        assert key is not None, "an INSERT always reports its primary key"
        seq: int = key[0]
        return seq

    def events(self, job_id: str, after: int = 0) -> list[JobEvent]:
        e = self._events.c
        query = self._events.select().where(e.job_id == job_id, e.seq > after).order_by(e.seq)
        with self.engine.connect() as db:
            return [(row.seq, row.name, json.loads(row.data)) for row in db.execute(query)]

    def request_cancel(self, job_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(self._update(job_id, cancel=True))

    def claim(self, job_id: str, holder: str, ttl: float) -> bool:
        c = self._jobs.c
        now = time.time()
        free = self._sa.or_(c.lease_holder.is_(None), c.lease_holder == holder, c.lease_until < now)
        query = (
            self._jobs.update()
            .where(c.id == job_id, free)
            .values(lease_holder=holder, lease_until=now + ttl)
        )
        with self.engine.begin() as db:  # one conditional UPDATE: atomic in the database
            return bool(db.execute(query).rowcount == 1)

    def release(self, job_id: str, holder: str) -> None:
        c = self._jobs.c
        query = (
            self._jobs.update()
            .where(c.id == job_id, c.lease_holder == holder)
            .values(lease_holder=None, lease_until=None)
        )
        with self.engine.begin() as db:
            db.execute(query)

    def journal_get(self, job_id: str, key: str) -> str | None:
        j = self._journal.c
        query = self._sa.select(j.output).where(j.job_id == job_id, j.step == key)
        with self.engine.connect() as db:
            output: str | None = db.execute(query).scalar()
        return output

    def journal_put(self, job_id: str, key: str, output: str) -> None:
        row = {"job_id": job_id, "step": key, "output": output}
        try:
            with self.engine.begin() as db:
                db.execute(self._journal.insert().values(**row))
        except self._sa.exc.IntegrityError:  # recorded already by an earlier attempt
            pass
