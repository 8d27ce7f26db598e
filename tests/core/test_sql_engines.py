"""Every SQL store given a SQLite URL waits for another worker's write lock, not failing.

Workers sharing one SQLite file take turns writing; a store whose connection
gives up at once answers "database is locked" to whoever came second.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")

from selectools import Message
from selectools.analytics import SQLAnalyticsStore
from selectools.audit import SQLAuditSink
from selectools.jobs.sql_store import SQLAlchemyJobStore
from selectools.memory import SQLAlchemyFactStore
from selectools.sessions import SQLAlchemySessionStore
from selectools.sql_schema import engine_for


def write_one(kind: str, url: str) -> Callable[[], Any]:
    """A store on `url` (its tables created now) and one write it makes."""
    if kind == "sessions":
        sessions = SQLAlchemySessionStore(url)
        return lambda: sessions.append("s", [Message.user("hi")])
    if kind == "facts":
        facts = SQLAlchemyFactStore(url)
        return lambda: facts.add("alice", "likes tea")
    if kind == "jobs":
        from selectools.jobs.record import JobRecord, new_job_id

        jobs = SQLAlchemyJobStore(url)
        return lambda: jobs.create(JobRecord(new_job_id(), None, ({"input": "hi"},)))
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["sessions", "facts", "jobs"])
def test_a_store_waits_for_a_write_lock_another_worker_holds(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    write = write_one(kind, f"sqlite:///{path}")
    other_worker = sqlite3.connect(path, isolation_level=None)
    other_worker.execute("BEGIN IMMEDIATE")  # holds the file's write lock
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            write()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    writer = threading.Thread(target=attempt)
    writer.start()
    writer.join(timeout=0.5)
    assert writer.is_alive(), f"the store gave up instead of waiting: {outcome}"
    other_worker.execute("COMMIT")
    writer.join(timeout=30)
    assert outcome == [None]


def test_engine_for_keeps_a_callers_engine_and_sets_the_wait_only_on_sqlite(
    tmp_path: Path,
) -> None:
    import sqlalchemy as sa

    mine = sa.create_engine(f"sqlite:///{tmp_path / 'mine.db'}")
    assert engine_for(mine) is mine
    made = engine_for(f"sqlite:///{tmp_path / 'made.db'}")
    with made.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_every_sql_store_waits_as_long_on_sqlite(tmp_path: Path) -> None:
    """The same 30 s everywhere (sqlite3's own default is 5 s, and the facts store had it)."""
    url = f"sqlite:///{tmp_path / 'books.db'}"
    stores = [
        SQLAlchemySessionStore(url),
        SQLAlchemyFactStore(url),
        SQLAlchemyJobStore(url),
        SQLAuditSink(url),
        SQLAnalyticsStore(url),
    ]
    for store in stores:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000, store
