"""SQLToolkit on SQLite: the tools, the caps, the contract, and the queries a model should run."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from selectools_sql import QueryFailedError, QueryRefusedError, SQLToolkit
from selectools_sql.sandbox import execute_write

from selectools import Agent, ScriptedProvider, Toolkit, call

from .shop import sqlite_fingerprint


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
    same_names = toolkit.run_query("SELECT o.id, c.id FROM orders o JOIN customers c LIMIT 1")
    assert same_names["columns"] == ["id", "id:1"]  # SQLite's names for a repeated column


LEGIT_SQLITE = [
    "SELECT upper(name), lower(name), length(name), substr(name, 1, 2), replace(name, 'a', 'b'), "
    "trim(name), ltrim(name), rtrim(name), instr(name, 'a'), coalesce(notes, '-'), "
    "ifnull(notes, ''), nullif(id, 2), abs(-id), round(1.234, 1), typeof(name), hex(name), "
    "quote(name), printf('%05d', id), char(65), unicode('A'), iif(id > 1, 'y', 'n') "
    "FROM customers",
    "SELECT count(*), sum(total), avg(total), min(total), max(total), total(total), "
    "group_concat(id, ',') FROM orders",
    "SELECT id, row_number() OVER (ORDER BY total DESC), rank() OVER (ORDER BY total), "
    "dense_rank() OVER (ORDER BY total), lag(total) OVER (ORDER BY id), "
    "lead(total, 1, 0) OVER (ORDER BY id), first_value(total) OVER (ORDER BY id), "
    "ntile(2) OVER (ORDER BY id), sum(total) OVER (PARTITION BY customer_id) FROM orders",
    "SELECT date('now') IS NOT NULL, datetime('2024-01-01', '+1 day'), "
    "strftime('%Y', '2024-05-01'), julianday('2024-01-01'), time('12:00:00')",
    """SELECT json_object('a', 1), json_array(1, 2), json_extract('{"a": 1}', '$.a'), """
    """'{"a": 2}' -> '$.a', '{"a": 3}' ->> '$.a', json_valid('{}'), json_type('[]'), """
    """json_group_array(id) FROM customers""",
    "SELECT CASE WHEN total > 50 THEN 'big' ELSE 'small' END, CAST(total AS INTEGER), "
    "total BETWEEN 10 AND 50, name LIKE 'A%', name GLOB 'A*', name COLLATE NOCASE = 'ada' "
    "FROM orders JOIN customers ON customers.id = orders.customer_id",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
    "SELECT count(*), sum(i) FROM n",
    "SELECT name FROM customers WHERE EXISTS "
    "(SELECT 1 FROM orders WHERE orders.customer_id = customers.id) ORDER BY name LIMIT 2 OFFSET 1",
    "SELECT customer_id, count(*) FILTER (WHERE total > 10) FROM orders "
    "GROUP BY customer_id HAVING count(*) > 0",
    "SELECT name FROM customers INTERSECT SELECT name FROM customers EXCEPT SELECT 'Alan'",
    "SELECT ceil(1.5), floor(1.5), sqrt(4), pow(2, 3), ln(1), log10(100), pi(), mod(7, 3), "
    "sign(-2), trunc(1.9)",
    "SELECT length(zeroblob(4)), length(randomblob(10)), likely(1), unlikely(0), random() < 0",
    "SELECT 3 IN (SELECT id FROM customers), id IN (1, 2) FROM customers",
]


@pytest.mark.parametrize("sql", LEGIT_SQLITE)
def test_ordinary_queries_pass_the_parser_and_the_authorizer(toolkit: SQLToolkit, sql: str) -> None:
    result = toolkit.run_query(sql)
    assert result["rows"]
    assert all(v is None or isinstance(v, str | int | float) for r in result["rows"] for v in r)


def test_row_and_character_caps_tell_the_model(sqlite_db: Path) -> None:
    with SQLToolkit(f"sqlite:///{sqlite_db}", max_rows=2) as capped:
        result = capped.run_query("SELECT * FROM orders")
    assert result["row_count"] == 2
    assert result["truncated"] is True
    assert "limit: 2 rows" in result["note"]
    with SQLToolkit(f"sqlite:///{sqlite_db}", max_chars=80, max_cell_chars=5) as narrow:
        wide = narrow.run_query("SELECT name, notes, 'abcdefghijkl' AS long FROM customers")
    assert wide["rows"][0] == [
        "Ada",
        "likes... [4 more characters]",
        "abcde... [7 more characters]",
    ]
    assert wide["truncated"] is True
    assert "limit: 80 characters" in wide["note"]


def test_the_first_row_counts_against_max_chars(sqlite_db: Path) -> None:
    """400 columns of 600 characters: the row comes back cut to the limit, and says so."""
    columns = ", ".join(f"printf('%.600c', 'x') AS c{i}" for i in range(400))
    with SQLToolkit(f"sqlite:///{sqlite_db}", max_chars=8_000) as kit:
        result = kit.run_query(f"SELECT {columns}")
    [row] = result["rows"]
    assert sum(len(str(cell)) + 2 for cell in row) <= 8_000
    assert result["truncated"] is True
    assert "The first row is wider than the limit of 8000 characters" in result["note"]


def test_values_are_cut_in_the_query_and_blobs_shown_as_sizes(sqlite_db: Path) -> None:
    with SQLToolkit(f"sqlite:///{sqlite_db}", max_cell_chars=10) as kit:
        [row] = kit.run_query("SELECT printf('%.5000c', 'y'), zeroblob(300), 42, 1.5, NULL")["rows"]
    assert row == ["yyyyyyyyyy... [4990 more characters]", "<300 bytes>", 42, 1.5, None]


def test_a_value_over_the_length_limit_is_refused_by_the_database(tmp_path: Path) -> None:
    """The cell is never built: the model is told, and other columns stay readable."""
    path = tmp_path / "big.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO docs VALUES (1, printf('%.3000000c', 'z'))")
    with SQLToolkit(f"sqlite:///{path}", max_value_bytes=1_000_000) as kit:
        with pytest.raises(QueryFailedError, match="larger than 1000000 bytes"):
            kit.run_query("SELECT body FROM docs")
        with pytest.raises(QueryFailedError, match="larger than 1000000 bytes"):
            kit.run_query("SELECT substr(body, 1, 10) FROM docs")
        assert kit.run_query("SELECT id FROM docs")["rows"] == [[1]]
    with SQLToolkit(f"sqlite:///{path}", max_value_bytes=4_000_000, max_cell_chars=3) as kit:
        assert kit.run_query("SELECT body FROM docs")["rows"] == [
            ["zzz... [2999997 more characters]"]
        ]


def test_many_rows_stop_at_the_cap(toolkit: SQLToolkit) -> None:
    result = toolkit.run_query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
        "SELECT i, printf('%.100c', 'r') FROM n"
    )
    assert result["row_count"] == toolkit.max_rows
    assert result["truncated"] is True


def test_bad_query_returns_the_databases_message(toolkit: SQLToolkit) -> None:
    with pytest.raises(QueryFailedError, match="no such column: nme"):
        toolkit.run_query("SELECT nme FROM customers")


def test_timeout_stops_a_runaway_query(sqlite_db: Path) -> None:
    with (
        SQLToolkit(f"sqlite:///{sqlite_db}", timeout=0.2) as slow,
        pytest.raises(QueryFailedError, match=r"stopped after 0\.2 s"),
    ):
        slow.run_query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
        )


def test_an_autocommit_engine_keeps_every_guard(sqlite_db: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{sqlite_db}", isolation_level="AUTOCOMMIT")
    kit = SQLToolkit(engine, include_tables=["customers", "orders"], timeout=0.2)
    before = sqlite_fingerprint(sqlite_db)
    with pytest.raises(QueryFailedError, match="stopped after"):
        kit.run_query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        )
    with pytest.raises(QueryFailedError, match="not authorized"):
        execute_write(engine, "DELETE FROM customers", writable=["orders"], timeout=5)
    assert sqlite_fingerprint(sqlite_db) == before
    engine.dispose()


def test_writes_need_opt_in_and_stay_on_listed_tables(sqlite_db: Path) -> None:
    read_only = SQLToolkit(f"sqlite:///{sqlite_db}")
    assert "execute_write" not in [t.name for t in read_only.tools()]
    with pytest.raises(QueryRefusedError, match="read-only"):
        read_only.execute_write("UPDATE orders SET total = 1")
    writer = SQLToolkit(
        f"sqlite:///{sqlite_db}", include_tables=["orders", "customers"], writable_tables=["orders"]
    )
    tools = {t.name: t for t in writer.tools()}
    assert {name for name, t in tools.items() if t.writes} == {"execute_write"}
    assert writer.execute_write("UPDATE orders SET total = 1 WHERE id = 10") == {"rows_affected": 1}
    assert writer.run_query("SELECT total FROM orders WHERE id = 10")["rows"] == [[1.0]]
    before = sqlite_fingerprint(sqlite_db)
    for sql in [
        "UPDATE customers SET name = 'x'",
        "DROP TABLE orders",
        "DELETE FROM orders WHERE id IN (SELECT id FROM secrets)",
        "SELECT * FROM orders",
        "UPDATE orders SET total = 0; DELETE FROM customers",
        "UPDATE orders SET total = (SELECT count(*) FROM secrets)",
    ]:
        with pytest.raises(QueryRefusedError):
            writer.execute_write(sql)
    assert sqlite_fingerprint(sqlite_db) == before
    read_only.close()
    writer.close()


def test_write_authorizer_blocks_unlisted_tables_without_the_parser(sqlite_db: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{sqlite_db}")
    before = sqlite_fingerprint(sqlite_db)
    with pytest.raises(QueryFailedError, match="not authorized"):
        execute_write(engine, "DELETE FROM customers", writable=["orders"], timeout=5)
    with pytest.raises(QueryFailedError, match=r"not authorized|prohibited"):
        execute_write(
            engine,
            "UPDATE orders SET total = (SELECT count(*) FROM secrets)",
            writable=["orders"],
            readable=["customers"],
            timeout=5,
        )
    assert sqlite_fingerprint(sqlite_db) == before
    engine.dispose()


def test_agent_uses_the_toolkit_end_to_end(toolkit: SQLToolkit) -> None:
    provider = ScriptedProvider(
        [
            call("list_tables"),
            call("run_query", sql="SELECT name FROM customers WHERE id = 1"),
            call("run_query", sql="DELETE FROM customers"),
            call("run_query", sql="SELECT pg_sleep(1)"),
            "Customer 1 is Ada.",
        ]
    )
    result = Agent([toolkit], provider).run("Who is customer 1?")
    assert result.tool_calls[0].result == ["customers", "orders"]
    assert result.tool_calls[1].result["rows"] == [["Ada"]]
    assert "Only read-only queries are allowed" in (result.tool_calls[2].error or "")
    assert result.tool_calls[3].error_type == "query_refused_error"
    assert "pg_sleep()" in (result.tool_calls[3].error or "")
    assert result.text == "Customer 1 is Ada."


def test_name_prefix_lets_two_databases_share_an_agent(sqlite_db: Path) -> None:
    a = SQLToolkit(f"sqlite:///{sqlite_db}", name_prefix="sales_")
    b = SQLToolkit(f"sqlite:///{sqlite_db}", name_prefix="hr_")
    names = [t.name for t in a.tools() + b.tools()]
    assert "sales_run_query" in names
    assert "hr_run_query" in names
    assert (a.name, b.name) == ("sales_sql", "hr_sql")
    Agent([a, b], ScriptedProvider(["ok"]))  # no duplicate-name error


def test_the_toolkit_contract_and_close(sqlite_db: Path) -> None:
    with SQLToolkit(f"sqlite:///{sqlite_db}") as owned:
        assert isinstance(owned, Toolkit)
        owned.run_query("SELECT 1")
        assert owned.engine.pool.checkedin() == 1
    assert owned.engine.pool.checkedin() == 0  # the engine it made is disposed
    engine = sa.create_engine(f"sqlite:///{sqlite_db}")
    with SQLToolkit(engine) as borrowed:
        borrowed.run_query("SELECT 1")
    assert engine.pool.checkedin() == 1  # an engine passed in stays the caller's
    engine.dispose()


def test_errors_are_toolkit_errors_the_agent_hands_over() -> None:
    from selectools.tools.toolkit import RefusedError, UpstreamError

    assert issubclass(QueryRefusedError, RefusedError)
    assert issubclass(QueryFailedError, UpstreamError)
