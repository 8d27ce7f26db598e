"""Memory of one SQLToolkit query over a 150 MB cell or a 100k-row result (goal: < 32 MB).

Each case runs in a fresh process: the toolkit is built and warmed up (imports,
connection), the peak RSS is reset (`/proc/self/clear_refs`), the query runs, and
the extra peak RSS is reported. `--naive` adds, for comparison, the same query
fetched the plain way (SQLAlchemy `fetchall`, then cut in Python) in its own
process. PostgreSQL cases need the server on 127.0.0.1:5432 (or
SELECTOOLS_TEST_POSTGRES_URL); they use a schema of their own, dropped after.

Run: `python benchmarks/sql_memory.py [--naive]` (Linux only: reads /proc).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

POSTGRES_URL = os.environ.get(
    "SELECTOOLS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOAL_MB = 32
CELL_CHARS = 150_000_000
ROWS = 100_000

QUERIES = {
    "stored 150 MB cell": "SELECT id, body FROM big",
    "150 MB cell built by the query": {
        "sqlite": f"SELECT printf('%.{CELL_CHARS}c', 'x') AS body",
        "postgresql": f"SELECT repeat('x', {CELL_CHARS}) AS body",
    },
    "100k-row result": "SELECT * FROM many",
}


def _kilobytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(url: str, schema: str | None, sql: str, naive: bool) -> dict[str, Any]:
    """In this (fresh) process: warm up, reset the peak, run the query once."""
    import sqlalchemy as sa
    from selectools_sql import SQLToolkit

    connect_args = {"options": f"-c search_path={schema}"} if schema else {}
    engine = sa.create_engine(url, connect_args=connect_args)
    kit = SQLToolkit(engine, allow_privileged_role=True, timeout=120)
    kit.run_query("SELECT 1 AS warm")
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1").all()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak RSS to the current RSS
    before = _kilobytes("VmRSS")
    outcome: str
    if naive:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(sql).fetchall()
        cut = [[str(v)[: kit.max_cell_chars] for v in row] for row in rows[: kit.max_rows]]
        outcome = f"{len(rows)} rows fetched, {len(cut)} kept"
    else:
        try:
            result = kit.run_query(sql)
            outcome = f"{result['row_count']} rows, truncated={result['truncated']}"
        except Exception as exc:
            outcome = f"{type(exc).__name__}: {str(exc).split(',')[0]}"
    extra_mb = (_kilobytes("VmHWM") - before) / 1024
    engine.dispose()
    return {"extra_mb": round(extra_mb, 1), "outcome": outcome}


def _child(url: str, schema: str | None, sql: str, naive: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", url, schema or "", sql]
    if naive:
        command.append("--naive")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"extra_mb": float("nan"), "outcome": done.stderr.strip().splitlines()[-1]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def sqlite_database(folder: Path) -> str:
    path = folder / "memory.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute(f"INSERT INTO big SELECT 1, printf('%.{CELL_CHARS}c', 'x')")
        db.execute("CREATE TABLE many (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS}) "
            "INSERT INTO many SELECT i, printf('%.100c', 'r') FROM n"
        )
    return f"sqlite:///{path}"


@contextlib.contextmanager
def postgres_schema() -> Any:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    schema = "bench_" + uuid.uuid4().hex[:10]
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
            conn.exec_driver_sql(f"CREATE TABLE {schema}.big (id int PRIMARY KEY, body text)")
            conn.exec_driver_sql(  # md5 text barely compresses: a real 150 MB TOASTed value
                f"INSERT INTO {schema}.big SELECT 1, string_agg(md5(i::text), '') "
                f"FROM generate_series(1, {CELL_CHARS // 32}) AS i"
            )
            conn.exec_driver_sql(f"CREATE TABLE {schema}.many (id int PRIMARY KEY, body text)")
            conn.exec_driver_sql(
                f"INSERT INTO {schema}.many SELECT i, repeat('r', 100) "
                f"FROM generate_series(1, {ROWS}) AS i"
            )
        yield schema
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--naive", action="store_true", help="also measure a plain fetchall")
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "SCHEMA", "SQL"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        url, schema, sql = args.child
        print(json.dumps(measure(url, schema or None, sql, args.naive)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        targets: list[tuple[str, str, str | None]] = [
            ("sqlite", sqlite_database(Path(folder)), None)
        ]
        with contextlib.ExitStack() as stack:
            try:
                schema = stack.enter_context(postgres_schema())
                targets.append(("postgresql", POSTGRES_URL, schema))
            except Exception as exc:
                print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
            for dialect, url, schema in targets:
                for case, query in QUERIES.items():
                    sql = query[dialect] if isinstance(query, dict) else query
                    toolkit = _child(url, schema, sql, naive=False)
                    naive = _child(url, schema, sql, naive=True) if args.naive else None
                    rows.append((dialect, case, toolkit, naive))
    print("| database | case | SQLToolkit extra peak RSS | outcome | plain fetchall |")
    print("|---|---|---|---|---|")
    for dialect, case, toolkit, naive in rows:
        plain = f"{naive['extra_mb']} MB" if naive else "(--naive)"
        print(f"| {dialect} | {case} | {toolkit['extra_mb']} MB | {toolkit['outcome']} | {plain} |")
    worst = max(t["extra_mb"] for _, _, t, _ in rows)
    print(f"\nWorst case: {worst} MB extra (goal: under {GOAL_MB} MB).")


if __name__ == "__main__":
    main()
