"""SQLToolkit: tools, caps, and a table of hostile inputs refused with nothing changed."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from selectools_sql import QueryFailedError, QueryRefusedError, SQLToolkit
from selectools_sql.sandbox import execute_write, fetch_read_only

from selectools import Agent, ScriptedProvider, call

SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, notes TEXT);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL
);
CREATE TABLE secrets (id INTEGER PRIMARY KEY, value TEXT);
INSERT INTO customers VALUES (1, 'Ada', 'likes tea'), (2, 'Alan', NULL), (3, 'Grace', 'x');
INSERT INTO orders VALUES (10, 1, 12.5), (11, 1, 99.0), (12, 2, 5.25), (13, 3, 40.0);
INSERT INTO secrets VALUES (1, 'hunter2');
"""


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
    return path


@pytest.fixture
def toolkit(sqlite_db: Path) -> SQLToolkit:
    return SQLToolkit(f"sqlite:///{sqlite_db}", include_tables=["customers", "orders"])


def fingerprint(path: Path) -> str:
    """Every row of every table, and every file in the folder: any change shows."""
    digest = hashlib.sha256()
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master ORDER BY name")]
        for table in tables:
            digest.update(table.encode())
            for row in db.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr(row).encode())
    for file in sorted(path.parent.iterdir()):
        digest.update(file.name.encode())
    return digest.hexdigest()


def test_list_and_describe(toolkit: SQLToolkit) -> None:
    assert toolkit.list_tables() == ["customers", "orders"]  # secrets is not listed
    described = toolkit.describe_tables(["orders"])["orders"]
    assert [c["name"] for c in described["columns"]] == ["id", "customer_id", "total"]
    assert described["primary_key"] == ["id"]
    assert described["foreign_keys"] == [
        {"columns": ["customer_id"], "references": "customers(id)"}
    ]
    assert len(described["sample_rows"]) == 3
    with pytest.raises(QueryRefusedError, match="Unknown table 'secrets'"):
        toolkit.describe_tables(["secrets"])


def test_queries_with_ctes_unions_and_own_limits(toolkit: SQLToolkit) -> None:
    cte = toolkit.run_query(
        "WITH big AS (SELECT * FROM orders WHERE total > 10) "
        "SELECT c.name, SUM(b.total) AS spent FROM big b JOIN customers c ON c.id = b.customer_id "
        "GROUP BY c.name ORDER BY spent DESC"
    )
    assert cte["columns"] == ["name", "spent"]
    assert cte["rows"] == [["Ada", 111.5], ["Grace", 40.0]]
    assert cte["truncated"] is False
    union = toolkit.run_query("SELECT name FROM customers UNION SELECT 'zed' ORDER BY 1")
    assert [r[0] for r in union["rows"]] == ["Ada", "Alan", "Grace", "zed"]
    own_limit = toolkit.run_query("SELECT id FROM orders ORDER BY id LIMIT 2;")
    assert own_limit["rows"] == [[10], [11]]
    assert own_limit["truncated"] is False


def test_row_and_character_caps_tell_the_model(sqlite_db: Path) -> None:
    capped = SQLToolkit(f"sqlite:///{sqlite_db}", max_rows=2)
    result = capped.run_query("SELECT * FROM orders")
    assert result["row_count"] == 2
    assert result["truncated"] is True
    assert "limit: 2 rows" in result["note"]
    narrow = SQLToolkit(f"sqlite:///{sqlite_db}", max_chars=30, max_cell_chars=5)
    wide = narrow.run_query("SELECT name, notes, 'abcdefghijkl' AS long FROM customers")
    assert wide["rows"][0][2] == "abcde... [7 more characters]"
    assert wide["truncated"] is True
    assert "characters" in wide["note"]


def test_bad_query_returns_the_databases_message(toolkit: SQLToolkit) -> None:
    with pytest.raises(QueryFailedError, match="no such column: nme"):
        toolkit.run_query("SELECT nme FROM customers")


def test_timeout_stops_a_runaway_query(sqlite_db: Path) -> None:
    slow = SQLToolkit(f"sqlite:///{sqlite_db}", timeout=0.2)
    with pytest.raises(QueryFailedError, match=r"stopped after 0\.2 s"):
        slow.run_query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
        )


HOSTILE = [
    "DROP TABLE customers",
    "DELETE FROM orders",
    "UPDATE customers SET name = 'x'",
    "INSERT INTO orders VALUES (99, 1, 1.0)",
    "SELECT 1; DELETE FROM orders",
    "SELECT 1 -- harmless\n; DROP TABLE orders",
    "SELECT 1 /* ; */ ; UPDATE orders SET total = 0",
    "ATTACH DATABASE 'evil.db' AS evil",
    "PRAGMA query_only = 0",
    "PRAGMA writable_schema = 1",
    "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
    "SELECT * INTO stolen FROM customers",
    "CREATE TABLE x AS SELECT * FROM customers",
    "SELECT load_extension('/tmp/evil.so')",
    "SELECT * FROM secrets",
    "SELECT c.name, s.value FROM customers c, secrets s",
    "VACUUM INTO 'copy.db'",
    "REPLACE INTO orders VALUES (10, 1, 0)",
    "",
    "SELEC nonsense",
]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sqlite_inputs_are_refused_and_change_nothing(
    toolkit: SQLToolkit, sqlite_db: Path, sql: str
) -> None:
    before = fingerprint(sqlite_db)
    with pytest.raises((QueryRefusedError, QueryFailedError)):
        toolkit.run_query(sql)
    assert fingerprint(sqlite_db) == before


DB_LAYER_ATTACKS = [
    "DELETE FROM orders",
    "ATTACH DATABASE '{dir}/evil.db' AS evil",
    "PRAGMA query_only = 0",
    "CREATE TABLE x (a)",
    "SELECT load_extension('/tmp/evil.so')",
    "INSERT INTO orders VALUES (99, 1, 1.0)",
]


@pytest.mark.parametrize("sql", DB_LAYER_ATTACKS)
def test_sqlite_refuses_writes_even_without_the_parser(sqlite_db: Path, sql: str) -> None:
    """The authorizer alone stops what the parser would have caught."""
    engine = sa.create_engine(f"sqlite:///{sqlite_db}")
    before = fingerprint(sqlite_db)
    with pytest.raises(QueryFailedError, match=r"not authorized|refused"):
        fetch_read_only(engine, sql.format(dir=sqlite_db.parent), limit=10, timeout=5)
    assert fingerprint(sqlite_db) == before
    # and the pooled connection is clean afterwards: normal reads still work
    assert fetch_read_only(engine, "SELECT COUNT(*) FROM orders", limit=1, timeout=5).rows == [(4,)]


def test_writes_need_opt_in_and_stay_on_listed_tables(sqlite_db: Path) -> None:
    read_only = SQLToolkit(f"sqlite:///{sqlite_db}")
    assert "execute_write" not in [t.name for t in read_only.tools()]
    writer = SQLToolkit(
        f"sqlite:///{sqlite_db}", include_tables=["orders", "customers"], writable_tables=["orders"]
    )
    assert writer.execute_write("UPDATE orders SET total = 1 WHERE id = 10") == {"rows_affected": 1}
    assert writer.run_query("SELECT total FROM orders WHERE id = 10")["rows"] == [[1.0]]
    before = fingerprint(sqlite_db)
    for sql in [
        "UPDATE customers SET name = 'x'",
        "DROP TABLE orders",
        "DELETE FROM orders WHERE id IN (SELECT id FROM secrets)",
        "SELECT * FROM orders",
        "UPDATE orders SET total = 0; DELETE FROM customers",
    ]:
        with pytest.raises(QueryRefusedError):
            writer.execute_write(sql)
    assert fingerprint(sqlite_db) == before


def test_write_authorizer_blocks_unlisted_tables_without_the_parser(sqlite_db: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{sqlite_db}")
    before = fingerprint(sqlite_db)
    with pytest.raises(QueryFailedError, match="not authorized"):
        execute_write(engine, "DELETE FROM customers", writable=["orders"], timeout=5)
    assert fingerprint(sqlite_db) == before


def test_agent_uses_the_toolkit_end_to_end(toolkit: SQLToolkit) -> None:
    provider = ScriptedProvider(
        [
            call("list_tables"),
            call("run_query", sql="SELECT name FROM customers WHERE id = 1"),
            call("run_query", sql="DELETE FROM customers"),
            "Customer 1 is Ada.",
        ]
    )
    result = Agent(toolkit.tools(), provider).run("Who is customer 1?")
    assert result.tool_calls[0].result == ["customers", "orders"]
    assert result.tool_calls[1].result["rows"] == [["Ada"]]
    assert "Only read-only queries are allowed" in (result.tool_calls[2].error or "")
    assert result.text == "Customer 1 is Ada."


def test_name_prefix_lets_two_databases_share_an_agent(sqlite_db: Path) -> None:
    a = SQLToolkit(f"sqlite:///{sqlite_db}", name_prefix="sales_")
    b = SQLToolkit(f"sqlite:///{sqlite_db}", name_prefix="hr_")
    names = [t.name for t in a.tools() + b.tools()]
    assert "sales_run_query" in names
    assert "hr_run_query" in names
    Agent(a.tools() + b.tools(), ScriptedProvider(["ok"]))  # no duplicate-name error


# -- PostgreSQL ----------------------------------------------------------------------


@pytest.fixture
def pg(postgres_url: str) -> Iterator[tuple[SQLToolkit, sa.Engine, str]]:
    engine = sa.create_engine(postgres_url)
    schema = "t_" + uuid.uuid4().hex[:10]
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        conn.exec_driver_sql(f"SET search_path TO {schema}")
        for statement in SCHEMA.strip().split(";"):
            if statement.strip():
                conn.exec_driver_sql(
                    statement.replace("INTEGER PRIMARY KEY", "INTEGER PRIMARY KEY")
                )
    scoped = sa.create_engine(postgres_url, connect_args={"options": f"-c search_path={schema}"})
    yield SQLToolkit(scoped, include_tables=["customers", "orders"]), scoped, schema
    scoped.dispose()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


def pg_fingerprint(engine: sa.Engine) -> list[Any]:
    with engine.connect() as conn:
        return [
            conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("customers", "orders", "secrets")
        ] + [
            conn.exec_driver_sql("SELECT current_setting('default_transaction_read_only')").scalar()
        ]


PG_HOSTILE = [
    "DROP TABLE customers",
    "DELETE FROM orders",
    "SELECT 1; DELETE FROM orders",
    "set transaction read write; delete from orders",
    "COPY customers TO PROGRAM 'touch /tmp/pwned'",
    "COPY (SELECT * FROM customers) TO '/tmp/out.csv'",
    "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
    "SELECT * INTO stolen FROM customers",
    "SELECT pg_sleep(10)",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT lo_export(1, '/tmp/x')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT nextval('some_seq')",
    "SELECT * FROM customers FOR UPDATE",
    "SELECT * FROM secrets",
]


@pytest.mark.parametrize("sql", PG_HOSTILE)
def test_hostile_postgres_inputs_are_refused(
    pg: tuple[SQLToolkit, sa.Engine, str], sql: str
) -> None:
    toolkit, engine, _ = pg
    before = pg_fingerprint(engine)
    with pytest.raises((QueryRefusedError, QueryFailedError)):
        toolkit.run_query(sql)
    assert pg_fingerprint(engine) == before


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM orders",
        "set transaction read write; delete from orders",
        "select set_config('default_transaction_read_only','off',false); delete from orders",
        "UPDATE customers SET name = 'x'",
    ],
)
def test_postgres_refuses_writes_even_without_the_parser(
    pg: tuple[SQLToolkit, sa.Engine, str], sql: str
) -> None:
    _, engine, _ = pg
    before = pg_fingerprint(engine)
    with contextlib.suppress(QueryFailedError):  # refused; if not, it was rolled back
        fetch_read_only(engine, sql, limit=5, timeout=5)
    assert pg_fingerprint(engine) == before


def test_postgres_reads_and_timeouts(pg: tuple[SQLToolkit, sa.Engine, str]) -> None:
    toolkit, engine, _ = pg
    result = toolkit.run_query(
        "WITH t AS (SELECT customer_id, SUM(total) AS s FROM orders GROUP BY customer_id) "
        "SELECT c.name, t.s FROM t JOIN customers c ON c.id = t.customer_id ORDER BY t.s DESC"
    )
    assert result["rows"][0] == ["Ada", 111.5]
    assert toolkit.run_query("SELECT name FROM customers WHERE name LIKE '%a%' ORDER BY 1")[
        "rows"
    ] == [["Ada"], ["Alan"], ["Grace"]]
    with pytest.raises(QueryFailedError, match="stopped after"):
        fetch_read_only(engine, "SELECT pg_sleep(5)", limit=1, timeout=0.2)
    assert toolkit.describe_tables(["orders"])["orders"]["primary_key"] == ["id"]
