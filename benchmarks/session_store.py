"""One stored turn in `SQLAlchemySessionStore` on PostgreSQL against the raw driver doing
the same append (psycopg, one autocommit connection, the same single statement: the
upsert that locks the session row and checks its owner, and the insert of the messages).

Run: `python benchmarks/session_store.py` (PostgreSQL at BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test). Prints a table row per case.
"""

from __future__ import annotations

import json
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import psycopg

from selectools import Message
from selectools.sessions import SQLAlchemySessionStore
from selectools.sessions.sqlalchemy import _PG_APPEND

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TURNS = int(os.environ.get("BENCH_TURNS", "400"))
TURN = [Message.user("Where is order 1001?"), Message.assistant("It shipped on Monday.")]


def raw_append(conn: psycopg.Connection, sql: str, session_id: str) -> None:
    datas = [json.dumps(m.to_dict(), ensure_ascii=False) for m in TURN]
    params = {"id": session_id, "owner": "ada", "n": len(datas), "now": datetime.now(UTC)}
    row = conn.execute(sql, {**params, "datas": datas}).fetchone()
    assert row is not None
    assert row[0] == 1


def timed(append: object, ids: list[str]) -> float:
    """Median microseconds per turn over batches of 50."""
    batches = []
    for start in range(0, len(ids), 50):
        began = time.perf_counter()
        for session_id in ids[start : start + 50]:
            append(session_id)  # type: ignore[operator]
        batches.append((time.perf_counter() - began) / len(ids[start : start + 50]))
    return statistics.median(batches) * 1e6


def main() -> None:
    prefix = f"bench_{uuid.uuid4().hex[:8]}_"
    store = SQLAlchemySessionStore(URL, table_prefix=prefix)
    sql = _PG_APPEND.format(sessions=f"{prefix}sessions", messages=f"{prefix}messages")
    sql = sql.replace(":datas", "%(datas)s").replace(":now", "%(now)s").replace(":n", "%(n)s")
    sql = sql.replace(":id", "%(id)s").replace(":owner", "%(owner)s")
    dsn = URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for label, ids in (
                ("new session per turn", [f"n{i}" for i in range(TURNS)]),
                ("one session, growing", ["same"] * TURNS),
            ):
                ours_ids = [f"ours-{i}" for i in ids]
                raw_ids = [f"raw-{i}" for i in ids]
                timed(lambda sid: store.append(sid, TURN, owner="ada"), ours_ids[:50])  # warm up
                timed(lambda sid: raw_append(conn, sql, sid), raw_ids[:50])
                ours = timed(lambda sid: store.append(sid, TURN, owner="ada"), ours_ids)
                raw = timed(lambda sid: raw_append(conn, sql, sid), raw_ids)
                print(
                    f"| SQL store turn (PostgreSQL), {label} | {ours:.0f} µs | {raw:.0f} µs | "
                    f"{ours / raw:.2f}x |"
                )
    finally:
        store.metadata.drop_all(store.engine)
        store.engine.dispose()


if __name__ == "__main__":
    main()
