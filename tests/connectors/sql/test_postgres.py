"""SQLToolkit on PostgreSQL: ordinary queries work, caps are applied in the query, and an
AUTOCOMMIT engine changes nothing about the guards."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa
from selectools_sql import QueryFailedError, QueryRefusedError, SQLToolkit
from selectools_sql.sandbox import fetch_read_only

from .shop import PgShop, pg_fingerprint

LEGIT_POSTGRES = [
    "SELECT upper(name), lower(name), initcap(name), length(name), char_length(name), "
    "substr(name, 1, 2), substring(name from 1 for 2), left(name, 1), right(name, 1), "
    "position('a' in name), strpos(name, 'a'), replace(name, 'a', 'b'), "
    "translate(name, 'a', 'b'), reverse(name), repeat(name, 2), lpad(name, 5, '*'), "
    "rpad(name, 5), btrim(name), ltrim(name), rtrim(name), trim(both 'A' from name), "
    "concat(name, '!'), concat_ws('-', name, id), split_part('a,b', ',', 2), "
    "starts_with(name, 'A'), format('%s-%s', id, name), md5(name), ascii(name), "
    "chr(65), quote_literal(name), regexp_replace(name, 'a', 'b'), "
    "regexp_match(name, 'A(.)'), string_to_array('a,b', ','), "
    "array_to_string(ARRAY[1, 2], ','), coalesce(notes, '-'), nullif(id, 2), greatest(id, 2), "
    "least(id, 2), name || '!' FROM customers",
    "SELECT count(*), sum(total), avg(total), min(total), max(total), stddev(total), "
    "variance(total), string_agg(id::text, ','), array_agg(id), json_agg(id), "
    "bool_and(total > 0), bool_or(total > 50), "
    "percentile_cont(0.5) WITHIN GROUP (ORDER BY total), "
    "mode() WITHIN GROUP (ORDER BY customer_id), count(*) FILTER (WHERE total > 10) FROM orders",
    "SELECT id, row_number() OVER w, rank() OVER w, dense_rank() OVER w, "
    "percent_rank() OVER w, cume_dist() OVER w, ntile(2) OVER w, lag(total) OVER w, "
    "lead(total) OVER w, first_value(total) OVER w, last_value(total) OVER w, "
    "nth_value(total, 2) OVER w FROM orders WINDOW w AS (ORDER BY total)",
    "SELECT now() IS NOT NULL, current_date IS NOT NULL, current_timestamp IS NOT NULL, "
    "date_trunc('month', timestamp '2024-05-17'), date_part('year', date '2024-05-17'), "
    "extract(year from date '2024-05-17'), age(timestamp '2024-05-17', timestamp '2024-01-01'), "
    "make_date(2024, 5, 17), justify_days(interval '35 days'), "
    "to_char(date '2024-05-17', 'YYYY'), to_date('2024-05-17', 'YYYY-MM-DD'), to_timestamp(0), "
    "date '2024-05-17' + interval '1 day', timestamp '2024-05-17' AT TIME ZONE 'UTC'",
    "SELECT abs(-1), ceil(1.5), floor(1.5), round(1.25, 1), trunc(1.9), sign(-2), sqrt(4), "
    "cbrt(8), power(2, 3), 2 ^ 3, exp(0), ln(1), log(100), log10(100), mod(7, 3), 7 % 3, "
    "div(7, 2), pi(), degrees(pi()), radians(180), sin(0), cos(0), atan2(1, 1), "
    "width_bucket(5, 0, 10, 5), gcd(12, 8), lcm(4, 6), factorial(5), random() < 2",
    "SELECT jsonb_build_object('a', c.id), json_build_array(c.id, c.name), to_jsonb(c.name), "
    """row_to_json(c), '{"a": {"b": 1}}'::jsonb -> 'a' ->> 'b', '{"a": 1}'::jsonb ? 'a', """
    """'{"a": 1}'::jsonb @> '{"a": 1}', jsonb_typeof('1'), jsonb_array_length('[1, 2]'), """
    """jsonb_extract_path_text('{"a": "x"}', 'a'), jsonb_set('{"a": 1}', '{a}', '2'), """
    """jsonb_strip_nulls('{"a": null}'), jsonb_path_exists('{"a": 1}', '$.a') FROM customers c""",
    "SELECT x, cardinality(ARRAY[1, 2]), array_length(ARRAY[1, 2], 1), "
    "array_position(ARRAY[1, 2], 2), array_append(ARRAY[1], 2), array_cat(ARRAY[1], ARRAY[2]), "
    "ARRAY[1, 2] && ARRAY[2], 1 = ANY(ARRAY[1, 2]) FROM generate_series(1, 3) AS g(x)",
    "SELECT * FROM unnest(ARRAY[1, 2]) AS u(v)",
    """SELECT key, value FROM jsonb_each('{"a": 1}')""",
    "SELECT to_tsvector('english', coalesce(notes, '')) @@ to_tsquery('english', 'tea'), "
    "ts_rank(to_tsvector(coalesce(notes, '')), plainto_tsquery('tea')), "
    "websearch_to_tsquery('tea or coffee') FROM customers",
    "SELECT CASE WHEN total > 50 THEN 'big' ELSE 'small' END, total::int, "
    "CAST(total AS numeric(10, 2)), total BETWEEN 10 AND 50, id IS DISTINCT FROM 2 FROM orders",
    "SELECT name ILIKE 'a%', name ~ '^A', name ~* '^a', name SIMILAR TO 'A%', "
    "name NOT LIKE 'B%' FROM customers",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
    "SELECT count(*), sum(i) FROM n",
    "SELECT c.name, o.total FROM customers c LEFT JOIN LATERAL "
    "(SELECT total FROM orders WHERE customer_id = c.id ORDER BY total DESC LIMIT 1) o ON true",
    "SELECT DISTINCT ON (customer_id) customer_id, total FROM orders "
    "ORDER BY customer_id, total DESC",
    "SELECT num_nulls(notes, name), num_nonnulls(notes, name), md5('x'), "
    "encode('x'::bytea, 'base64'), decode('eA==', 'base64') FROM customers",
]


@pytest.fixture
def reader_kit(pg_reader: sa.Engine) -> SQLToolkit:
    return SQLToolkit(pg_reader, include_tables=["customers", "orders"])


@pytest.mark.parametrize("sql", LEGIT_POSTGRES)
def test_ordinary_queries_pass_every_layer(reader_kit: SQLToolkit, sql: str) -> None:
    """Parser, read-only transaction and reader role all let a normal analytic query run."""
    assert reader_kit.run_query(sql)["rows"]


def test_reads_describe_and_timeouts(reader_kit: SQLToolkit, pg_reader: sa.Engine) -> None:
    result = reader_kit.run_query(
        "WITH t AS (SELECT customer_id, SUM(total) AS s FROM orders GROUP BY customer_id) "
        "SELECT c.name, t.s FROM t JOIN customers c ON c.id = t.customer_id ORDER BY t.s DESC"
    )
    assert result["rows"][0] == ["Ada", 111.5]
    assert reader_kit.run_query("SELECT name FROM customers WHERE name LIKE '%a%' ORDER BY 1")[
        "rows"
    ] == [["Ada"], ["Alan"], ["Grace"]]
    with pytest.raises(QueryFailedError, match="stopped after"):
        fetch_read_only(pg_reader, "SELECT pg_sleep(5)", limit=1, timeout=0.2)
    described = reader_kit.describe_tables(["orders"])["orders"]
    assert described["primary_key"] == ["id"]
    assert described["sample_rows"][0] == {"id": 10, "customer_id": 1, "total": 12.5}


def test_values_are_cut_by_the_database(reader_kit: SQLToolkit) -> None:
    """Only the cut value crosses the wire (benchmarks/sql_memory.py measures a 150 MB one)."""
    reader_kit.max_cell_chars = 10
    [row] = reader_kit.run_query(
        "SELECT repeat('a', 2000000) AS big, repeat('é', 10), repeat('é', 12), 'x'::bytea, "
        "7, 2.5::float8, true, NULL, 12.50::numeric, ARRAY[1, 2], date '2024-05-17', "
        "'{\"k\": 1}'::jsonb"
    )["rows"]
    assert row == [
        "aaaaaaaaaa... [1999990 more bytes]",
        "éééééééééé",
        "éééééééééé... [4 more bytes]",
        "<1 bytes>",
        7,
        2.5,
        True,
        None,
        "12.50",
        "{1,2}",
        "2024-05-17",
        '{"k": 1}',
    ]


def test_the_first_row_counts_against_max_chars(reader_kit: SQLToolkit) -> None:
    columns = ", ".join(f"repeat('x', 600) AS c{i}" for i in range(400))
    result = reader_kit.run_query(f"SELECT {columns}")
    [row] = result["rows"]
    assert sum(len(str(cell)) + 2 for cell in row) <= reader_kit.max_chars
    assert result["truncated"] is True
    assert "first row is wider" in result["note"]


@pytest.mark.parametrize("how", ["create_engine", "execution_options"])
def test_an_autocommit_engine_still_gets_a_read_only_transaction_and_a_timeout(
    how: str, pg_shop: PgShop
) -> None:
    """Without the parser, as the superuser: the toolkit's own transaction still holds."""
    engine = (
        pg_shop.engine(isolation_level="AUTOCOMMIT")
        if how == "create_engine"
        else pg_shop.engine().execution_options(isolation_level="AUTOCOMMIT")
    )
    try:
        before = pg_fingerprint(pg_shop, engine)
        for sql in ("DELETE FROM orders", "SELECT 1) AS x; DELETE FROM orders; SELECT (1"):
            with contextlib.suppress(QueryFailedError):
                fetch_read_only(engine, sql, limit=5, timeout=5)
        with pytest.raises(QueryFailedError, match="read-only transaction"):
            fetch_read_only(engine, "SELECT nextval('order_seq')", limit=5, timeout=5)
        with pytest.raises(QueryFailedError, match="stopped after"):
            fetch_read_only(engine, "SELECT pg_sleep(5)", limit=1, timeout=0.2)
        assert pg_fingerprint(pg_shop, engine) == before
        with engine.connect() as conn:  # the engine's own setting is left as it was
            assert conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "off"
    finally:
        engine.dispose()


def test_writes_run_in_the_toolkits_own_transaction(pg_shop: PgShop) -> None:
    engine = pg_shop.engine(isolation_level="AUTOCOMMIT")
    kit = SQLToolkit(
        engine,
        include_tables=["customers", "orders"],
        writable_tables=["orders"],
        allow_privileged_role=True,
    )
    try:
        assert kit.execute_write("UPDATE orders SET total = 1 WHERE id = 10") == {
            "rows_affected": 1
        }
        assert kit.run_query("SELECT total FROM orders WHERE id = 10")["rows"] == [[1.0]]
        with pytest.raises(QueryRefusedError):
            kit.execute_write("UPDATE orders SET total = nextval('order_seq')")
        kit.timeout = 0.2
        with pytest.raises(QueryFailedError, match="stopped after"):
            kit.execute_write(
                "UPDATE orders SET total = total WHERE id = 10 AND abs(1) = 1 "
                "AND (SELECT count(*) FROM generate_series(1, 100000000)) > 0"
            )
    finally:
        engine.dispose()
