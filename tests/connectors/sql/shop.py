"""A small shop database (SQLite file or PostgreSQL schema) and fingerprints of its state.

A fingerprint is everything a hostile statement could change: rows, tables,
sequences, and on PostgreSQL the locks, settings and session leftovers of the
toolkit's pooled connection, replication slots, large objects, server files,
statistics resets and roles. Equal fingerprints before and after = nothing changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

SHOP_TABLES = ("customers", "orders", "secrets")
SHOP_ROWS = """
INSERT INTO customers VALUES (1, 'Ada', 'likes tea'), (2, 'Alan', NULL), (3, 'Grace', 'x');
INSERT INTO orders VALUES (10, 1, 12.5), (11, 1, 99.0), (12, 2, 5.25), (13, 3, 40.0);
INSERT INTO secrets VALUES (1, 'hunter2');
"""
SQLITE_SHOP = (
    """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, notes TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL
);
CREATE TABLE secrets (id INTEGER PRIMARY KEY, value TEXT);
CREATE VIEW customer_names AS SELECT name FROM customers;
CREATE VIEW leaky AS SELECT value FROM secrets;
"""
    + SHOP_ROWS
)


def create_sqlite_shop(path: Path) -> Path:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executescript(SQLITE_SHOP)
    return path


def sqlite_fingerprint(path: Path) -> str:
    """Every row of every table, the schema, the pragmas a statement could flip, the files."""
    digest = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(path)) as db:
        for row in db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"):
            digest.update(repr(row).encode())
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in sorted(tables):
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr(row).encode())
        for pragma in ("user_version", "application_id", "journal_mode", "page_size"):
            digest.update(repr(db.execute(f"PRAGMA {pragma}").fetchone()).encode())
    for file in sorted(path.parent.iterdir()):
        digest.update(file.name.encode())
    return digest.hexdigest()


@dataclass
class PgShop:
    """A shop in its own schema of the shared `test` database, with unique names for
    everything a hostile statement could create (slot, large object, file, role, channel)."""

    url: str
    admin: sa.Engine
    schema: str = field(default_factory=lambda: "t_" + uuid.uuid4().hex[:12])
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    @property
    def app_name(self) -> str:
        return f"selectools_test_{self.token}"

    @property
    def names(self) -> dict[str, Any]:
        """The placeholders hostile statements are written with."""
        return {
            "schema": self.schema,
            "slot": f"sel_slot_{self.token}",
            "oid": 3_000_000_000 + int(self.token[:7], 16),
            "file": f"/tmp/selectools_{self.token}.out",
            "chan": f"sel_chan_{self.token}",
            "role": f"sel_evil_{self.token}",
        }

    def engine(self, user: str | None = None, **kwargs: Any) -> sa.Engine:
        """An engine on the shop's schema whose connections are findable by application_name;
        one pooled connection, so leftovers of one call would meet the next."""
        url = sa.engine.make_url(self.url)
        if user is not None:
            url = url.set(username=user, password=None)
        options = {"pool_size": 1, "max_overflow": 0, **kwargs}
        return sa.create_engine(
            url,
            connect_args={
                "options": f"-c search_path={self.schema}",
                "application_name": self.app_name,
            },
            **options,
        )

    def create(self) -> None:
        s = self.schema
        statements = [
            f"CREATE SCHEMA {s}",
            f"CREATE TABLE {s}.customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, notes TEXT)",
            f"CREATE TABLE {s}.orders (id INTEGER PRIMARY KEY, "
            f"customer_id INTEGER REFERENCES {s}.customers(id), total REAL)",
            f"CREATE TABLE {s}.secrets (id INTEGER PRIMARY KEY, value TEXT)",
            f"CREATE SEQUENCE {s}.order_seq",
            f"CREATE FUNCTION {s}.evil() RETURNS int LANGUAGE sql "
            f"AS 'DELETE FROM {s}.orders; SELECT 1'",
            f"CREATE PROCEDURE {s}.evil_proc() LANGUAGE sql AS 'DELETE FROM {s}.orders'",
            f"CREATE MATERIALIZED VIEW {s}.v AS SELECT id FROM {s}.customers",
        ]
        with self.admin.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql(f"SET LOCAL search_path TO {s}")
            for statement in SHOP_ROWS.strip().splitlines():
                conn.exec_driver_sql(statement)

    def drop(self) -> None:
        """Remove the schema and anything a statement that got through may have made."""
        n = self.names
        with self.admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            conn.execute(
                sa.text(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    f"WHERE slot_name LIKE '{n['slot']}%' AND NOT active"
                )
            )
            conn.execute(
                sa.text(
                    "SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin "
                    f"WHERE roname LIKE '{n['slot']}%'"
                )
            )
            conn.exec_driver_sql(
                f"SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE oid = {n['oid']}"
            )
            conn.exec_driver_sql(f"DROP ROLE IF EXISTS {n['role']}")
        with contextlib.suppress(OSError):
            Path(n["file"]).unlink()


def pg_fingerprint(shop: PgShop, toolkit_engine: sa.Engine | None = None) -> dict[str, Any]:
    """What a hostile statement could have changed, seen by the admin and, when given, from
    inside the toolkit's own pooled connection."""
    s, n = shop.schema, shop.names
    queries = {
        "rows": " UNION ALL ".join(
            f"(SELECT '{t}', t::text FROM {s}.{t} AS t ORDER BY 2)" for t in SHOP_TABLES
        ),
        "relations": f"SELECT relname, relkind::text FROM pg_class "
        f"WHERE relnamespace = '{s}'::regnamespace ORDER BY 1",
        "comments": f"SELECT obj_description('{s}.orders'::regclass, 'pg_class')",
        "sequence": f"SELECT last_value, is_called FROM {s}.order_seq",
        "backends": "SELECT a.state, count(l.*) FROM pg_stat_activity a "
        "LEFT JOIN pg_locks l ON l.pid = a.pid "
        f"WHERE a.application_name = '{shop.app_name}' GROUP BY a.pid, a.state ORDER BY 1",
        "slots": f"SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE '{n['slot']}%'",
        "origins": f"SELECT roname FROM pg_replication_origin WHERE roname LIKE '{n['slot']}%'",
        "large_objects": f"SELECT oid FROM pg_largeobject_metadata WHERE oid = {n['oid']}",
        "files": f"SELECT pg_stat_file('{n['file']}', true) IS NOT NULL",
        "stats_reset": "SELECT (SELECT stats_reset FROM pg_stat_database "
        "WHERE datname = current_database()), (SELECT stats_reset FROM pg_stat_bgwriter)",
        "roles": f"SELECT rolname FROM pg_roles WHERE rolname = '{n['role']}'",
    }
    session: Any = None
    if toolkit_engine is not None:
        with toolkit_engine.connect() as conn:
            session = conn.execute(
                sa.text(
                    "SELECT current_user, session_user, "
                    "current_setting('default_transaction_read_only'), "
                    "current_setting('statement_timeout'), current_setting('search_path'), "
                    "(SELECT count(*) FROM pg_prepared_statements "
                    "WHERE name NOT LIKE '\\_pg3\\_%'), "
                    "(SELECT count(*) FROM pg_cursors), "
                    "(SELECT count(*) FROM pg_listening_channels()), "
                    "(SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()), "
                    "(SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                    "AND locktype = 'advisory')"
                )
            ).all()
    with shop.admin.connect() as conn:
        seen: dict[str, Any] = {k: conn.execute(sa.text(q)).all() for k, q in queries.items()}
    seen["session"] = session
    return seen
