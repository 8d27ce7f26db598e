"""The parser layer on its own: the function allowlist, every table reference, what runs."""

from __future__ import annotations

import pytest
from selectools_sql import QueryRefusedError, check_read_only, check_write
from selectools_sql.functions import allowed_function_names, allowed_function_nodes

# Functions that execute SQL text, read a table named in a string, take locks, touch
# sequences, notify, assign transaction ids, reach files or other servers, change settings,
# signal backends or reset statistics. None may be on the allowlist under any arity.
NEVER_ALLOWED = [
    "ts_stat",
    "ts_rewrite",
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "table_to_xml",
    "table_to_xmlschema",
    "table_to_xml_and_xmlschema",
    "schema_to_xml",
    "database_to_xml",
    "cursor_to_xml",
    "xpath",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_all",
    "nextval",
    "setval",
    "currval",
    "lastval",
    "pg_notify",
    "txid_current",
    "txid_current_if_assigned",
    "pg_current_xact_id",
    "pg_current_xact_id_if_assigned",
    "set_config",
    "current_setting",
    "setseed",
    "pg_sleep",
    "pg_sleep_for",
    "pg_sleep_until",
    "lo_import",
    "lo_export",
    "lo_create",
    "lo_creat",
    "lo_unlink",
    "lo_from_bytea",
    "lo_put",
    "lo_get",
    "loread",
    "lowrite",
    "lo_open",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "pg_file_write",
    "pg_file_unlink",
    "pg_file_rename",
    "pg_ls_logdir",
    "pg_ls_waldir",
    "pg_ls_tmpdir",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_create_logical_replication_slot",
    "pg_create_physical_replication_slot",
    "pg_drop_replication_slot",
    "pg_logical_slot_get_changes",
    "pg_replication_origin_create",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_statements_reset",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "dblink_connect_u",
    "dblink_send_query",
    "dblink_get_result",
    "dblink_open",
    "pg_logical_emit_message",
    "pg_promote",
    "pg_export_snapshot",
    "pg_import_system_collations",
    "pg_backup_start",
    "pg_backup_stop",
    "version",
    "current_database",
    "inet_server_addr",
    "pg_backend_pid",
    "load_extension",
    "readfile",
    "writefile",
    "fts3_tokenizer",
    "sqlite_compileoption_get",
    "edit",
    "sleep",
    "benchmark",
]
ARGUMENTS = ("()", "('a')", "(1, 2)", "('a', 'b', false)")


@pytest.mark.parametrize("dialect", ["postgres", "sqlite"])
@pytest.mark.parametrize("name", NEVER_ALLOWED)
def test_functions_with_side_effects_are_refused_by_name(dialect: str, name: str) -> None:
    messages = []
    for arguments in ARGUMENTS:
        for sql in (f"SELECT {name}{arguments}", f"SELECT * FROM {name}{arguments} AS t"):
            with pytest.raises(QueryRefusedError) as refused:
                check_read_only(sql, dialect=dialect)
            messages.append(str(refused.value))
    # wherever the call parses, the refusal names it (a wrong arity may not parse at all)
    assert any(f"The function {name}() is not allowed" in m for m in messages), messages


def test_the_allowlist_holds_none_of_them() -> None:
    for dialect in ("postgres", "sqlite"):
        assert not set(NEVER_ALLOWED) & allowed_function_names(dialect)
        assert allowed_function_nodes(dialect)  # derived from the names: never empty


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT pg_catalog.upper(name) FROM customers",
        "SELECT public.evil()",
        "SELECT a.b.c(1)",
    ],
)
def test_schema_qualified_calls_are_refused(sql: str) -> None:
    with pytest.raises(QueryRefusedError, match="called with a schema"):
        check_read_only(sql, dialect="postgres")


@pytest.mark.parametrize(
    ("sql", "reached"),
    [
        ("SELECT 'x' IN secrets", "secrets"),
        ("SELECT 1 WHERE 'x' NOT IN main.secrets", "main.secrets"),
        ("SELECT * FROM customers WHERE id IN (SELECT id FROM secrets)", "secrets"),
        ("SELECT * FROM (WITH secrets AS (SELECT 1 AS a) SELECT a FROM secrets) x, secrets", ""),
        ("WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets", "secrets"),
        ("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", "b"),
        ("SELECT (SELECT value FROM secrets LIMIT 1)", "secrets"),
        ("SELECT * FROM customers WHERE EXISTS (SELECT 1 FROM secrets)", "secrets"),
        ("SELECT * FROM customers UNION SELECT id, value, NULL FROM secrets", "secrets"),
        ("SELECT * FROM sqlite_master", "sqlite_master"),
    ],
)
def test_every_table_reference_is_checked(sql: str, reached: str) -> None:
    with pytest.raises(QueryRefusedError, match=rf"reads {reached or 'secrets'}\b"):
        check_read_only(sql, dialect="sqlite", allowed_tables=["customers", "orders"])


@pytest.mark.parametrize(
    "sql",
    [
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
        "SELECT * FROM n",
        "WITH a AS (SELECT * FROM customers), b AS (SELECT * FROM a) SELECT * FROM b",
        "WITH x AS (SELECT 1 AS i) SELECT * FROM (SELECT * FROM x) y",
        "SELECT 'x' IN (SELECT name FROM customers)",
        "SELECT 'Ada' IN customers",  # a listed table on the right of IN is fine
    ],
)
def test_ctes_in_scope_and_listed_tables_pass(sql: str) -> None:
    checked = check_read_only(sql, dialect="sqlite", allowed_tables=["customers", "orders"])
    assert checked.tables <= {"customers", "orders"}


def test_postgres_names_resolve_as_postgres_does() -> None:
    allowed = ["orders", '"Mixed"']
    assert check_read_only("SELECT * FROM ORDERS", dialect="postgres", allowed_tables=allowed)
    assert check_read_only('SELECT * FROM "Mixed"', dialect="postgres", allowed_tables=allowed)
    with pytest.raises(QueryRefusedError, match="reads Orders"):
        check_read_only('SELECT * FROM "Orders"', dialect="postgres", allowed_tables=allowed)
    with pytest.raises(QueryRefusedError, match="reads mixed"):
        check_read_only("SELECT * FROM Mixed", dialect="postgres", allowed_tables=allowed)


def test_what_runs_is_regenerated_without_comments() -> None:
    checked = check_read_only(
        "SELECT name /* */ FROM customers -- ; DROP TABLE customers", dialect="postgres"
    )
    assert checked.sql == "SELECT name FROM customers"
    nested = check_read_only("SELECT 1 /* a /* b */ ; DELETE FROM x */", dialect="postgres")
    assert nested.sql == "SELECT 1"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE orders SET total = nextval('s')",
        "INSERT INTO orders SELECT pg_advisory_lock(1), 1, 1",
        "DELETE FROM orders WHERE id IN (SELECT id FROM secrets)",
        "DELETE FROM orders WHERE 'x' IN secrets",
        "UPDATE customers SET name = 'x'",
        "WITH d AS (DELETE FROM customers RETURNING id) INSERT INTO orders SELECT id, 1, 1 FROM d",
    ],
)
def test_writes_get_the_same_checks(sql: str) -> None:
    with pytest.raises(QueryRefusedError):
        check_write(
            sql,
            dialect="sqlite",
            writable_tables=["orders"],
            readable_tables=["customers", "orders"],
        )
