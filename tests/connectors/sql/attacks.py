"""Hostile statements a prompt-injected model may send, by family.

Placeholders ({schema}, {victim}, {slot}, {oid}, {file}, {chan}, {role}) are
filled with names unique to one test (see `PgShop.names`), so nothing a
statement could create collides with another test or survives it.
"""

from __future__ import annotations

POSTGRES: dict[str, list[str]] = {
    "drop": ["DROP TABLE orders", "DROP SCHEMA {schema} CASCADE"],
    "delete": ["DELETE FROM orders", "DELETE FROM orders WHERE id IN (SELECT id FROM orders)"],
    "update": ["UPDATE customers SET name = 'x'"],
    "insert": ["INSERT INTO orders VALUES (99, 1, 1.0)", "INSERT INTO orders SELECT 98, 1, 1"],
    "truncate": ["TRUNCATE orders", "TRUNCATE orders, customers CASCADE"],
    "merge": [
        "MERGE INTO orders o USING customers c ON o.customer_id = c.id WHEN MATCHED THEN DELETE"
    ],
    "stacked": [
        "SELECT 1; DELETE FROM orders",
        "SELECT 1;DELETE FROM orders;",
        "SELECT * FROM customers; DROP TABLE orders",
    ],
    "comments": [
        "SELECT 1 -- harmless\n; DROP TABLE orders",
        "SELECT 1 /* ; */ ; UPDATE orders SET total = 0",
        "SELECT 1 /* */ ; DELETE FROM orders /* */",
        "/* a */ DELETE FROM orders",
        "-- a\nDELETE FROM orders",
    ],
    "transaction_control": [
        "set transaction read write; delete from orders",
        "COMMIT; DELETE FROM orders",
        "ROLLBACK; DELETE FROM orders",
        "BEGIN; DELETE FROM orders; COMMIT",
        "START TRANSACTION READ WRITE",
        "SAVEPOINT s",
    ],
    "cte_writes": [
        "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
        "WITH u AS (UPDATE customers SET name = 'x' RETURNING id) SELECT count(*) FROM u",
        "WITH i AS (INSERT INTO orders VALUES (97, 1, 1) RETURNING id) SELECT * FROM i",
    ],
    "select_into": [
        "SELECT * INTO stolen FROM customers",
        "SELECT * INTO TEMP stolen FROM customers",
    ],
    "create": [
        "CREATE TABLE x AS SELECT * FROM customers",
        "CREATE TEMP TABLE x (a int)",
        "CREATE VIEW x AS SELECT * FROM secrets",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE ROLE {role} SUPERUSER LOGIN",
    ],
    "alter_and_grant": [
        "ALTER TABLE orders ADD COLUMN x int",
        "GRANT ALL ON secrets TO PUBLIC",
        "REVOKE SELECT ON orders FROM PUBLIC",
        "COMMENT ON TABLE orders IS 'pwned'",
    ],
    "copy": [
        "COPY customers TO '{file}'",
        "COPY (SELECT * FROM secrets) TO '{file}'",
        "COPY customers TO PROGRAM 'touch {file}'",
        "COPY orders FROM '/etc/hostname'",
        "COPY customers TO STDOUT",
    ],
    "do_blocks": [
        "DO $$ BEGIN DELETE FROM orders; END $$",
        "DO 'BEGIN DELETE FROM orders; END'",
    ],
    "prepared_statements": [
        "PREPARE p AS DELETE FROM orders",
        "EXECUTE p",
        "DEALLOCATE ALL",
    ],
    "cursors": [
        "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM secrets",
        "FETCH ALL FROM c",
    ],
    "locking_clauses": [
        "SELECT * FROM customers FOR UPDATE",
        "SELECT * FROM customers FOR SHARE",
        "SELECT * FROM customers FOR NO KEY UPDATE",
        "SELECT * FROM customers FOR KEY SHARE SKIP LOCKED",
        "SELECT * FROM (SELECT * FROM customers FOR UPDATE) s",
    ],
    "lock_table": ["LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"],
    "advisory_locks": [
        "SELECT pg_advisory_lock(42)",
        "SELECT pg_advisory_lock_shared(42)",
        "SELECT pg_try_advisory_lock(42)",
        "SELECT pg_try_advisory_lock_shared(1, 2)",
        "SELECT pg_advisory_xact_lock(42)",
        "SELECT pg_advisory_xact_lock_shared(42)",
        "SELECT count(*) FROM customers WHERE pg_try_advisory_lock(id)",
    ],
    "sequences": [
        "SELECT nextval('{schema}.order_seq')",
        "SELECT setval('{schema}.order_seq', 1000)",
        "SELECT currval('{schema}.order_seq')",
        "SELECT lastval()",
        "SELECT * FROM order_seq",
    ],
    "notify": [
        "SELECT pg_notify('{chan}', 'leak')",
        "NOTIFY {chan}, 'leak'",
        "LISTEN {chan}",
    ],
    "transaction_ids": [
        "SELECT txid_current()",
        "SELECT pg_current_xact_id()",
        "SELECT txid_current_if_assigned()",
    ],
    "settings": [
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT set_config('statement_timeout', '0', false)",
        "SET default_transaction_read_only = off",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "RESET ALL",
        "SELECT current_setting('data_directory')",
    ],
    "roles": ["SET ROLE postgres", "SET SESSION AUTHORIZATION postgres", "RESET ROLE"],
    "ts_stat_inner_sql": [
        "SELECT * FROM ts_stat('SELECT to_tsvector(value) FROM {schema}.secrets')",
        "SELECT * FROM ts_stat('DELETE FROM {schema}.orders RETURNING to_tsvector(''x'')')",
        "SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, ''b''::tsquery')",
    ],
    "xml_of_tables": [
        "SELECT table_to_xml('{schema}.secrets', true, false, '')",
        "SELECT query_to_xml('SELECT * FROM {schema}.secrets', true, false, '')",
        "SELECT schema_to_xml('{schema}', true, false, '')",
        "SELECT database_to_xml(true, false, '')",
        "SELECT table_to_xml_and_xmlschema('{schema}.secrets', true, false, '')",
    ],
    "large_objects": [
        "SELECT lo_create({oid})",
        "SELECT lo_import('/etc/hostname', {oid})",
        "SELECT lo_from_bytea({oid}, 'x')",
        "SELECT lo_export({oid}, '{file}')",
        "SELECT lo_put({oid}, 0, 'x')",
    ],
    "server_files": [
        "SELECT pg_read_file('/etc/hostname')",
        "SELECT pg_read_binary_file('/etc/hostname')",
        "SELECT * FROM pg_ls_dir('.')",
        "SELECT pg_stat_file('postgresql.conf')",
        "SELECT pg_file_write('{file}', 'x', false)",
    ],
    "replication_slots": [
        "SELECT pg_create_physical_replication_slot('{slot}')",
        "SELECT * FROM pg_create_logical_replication_slot('{slot}_l', 'test_decoding')",
        "SELECT pg_replication_origin_create('{slot}')",
    ],
    "stats_reset": [
        "SELECT pg_stat_reset()",
        "SELECT pg_stat_reset_shared('bgwriter')",
        "SELECT pg_stat_reset_single_table_counters('{schema}.orders'::regclass)",
    ],
    "dblink": [
        "SELECT dblink_connect_u('c', 'dbname=test')",
        "SELECT dblink_send_query('c', 'DELETE FROM {schema}.orders')",
        "SELECT dblink_exec('dbname=test', 'DELETE FROM {schema}.orders')",
        "SELECT * FROM dblink('dbname=test', 'DELETE FROM {schema}.orders RETURNING 1') "
        "AS t(x int)",
    ],
    "backend_signals": [
        "SELECT pg_terminate_backend({victim})",
        "SELECT pg_cancel_backend({victim})",
    ],
    "server_admin": [
        "SELECT pg_reload_conf()",
        "SELECT pg_rotate_logfile()",
        "SELECT pg_switch_wal()",
        "SELECT pg_create_restore_point('{slot}')",
        "SELECT pg_logical_emit_message(false, 'x', 'y')",
        "CHECKPOINT",
    ],
    "maintenance": [
        "VACUUM orders",
        "ANALYZE orders",
        "CLUSTER orders",
        "REFRESH MATERIALIZED VIEW v",
    ],
    "explain_analyze": [
        "EXPLAIN ANALYZE DELETE FROM orders",
        "EXPLAIN (ANALYZE) SELECT pg_advisory_lock(42)",
    ],
    "call_procedure": ["CALL {schema}.evil_proc()", "CALL evil_proc()"],
    "user_functions": ["SELECT {schema}.evil()", "SELECT evil()", 'SELECT "evil"()'],
    "qualified_builtins": [
        "SELECT pg_catalog.set_config('default_transaction_read_only', 'off', false)",
        "SELECT pg_catalog.pg_advisory_lock(42)",
        "SELECT pg_catalog.upper(name) FROM customers",
    ],
    "sleep": ["SELECT pg_sleep(30)", "SELECT pg_sleep_for('30 seconds')"],
    "tables_out_of_scope": [
        "SELECT * FROM secrets",
        "SELECT c.name, s.value FROM customers c, secrets s",
        "SELECT * FROM customers WHERE id IN (SELECT id FROM secrets)",
        "TABLE secrets",
        "SELECT * FROM {schema}.secrets",
        'SELECT * FROM "secrets"',
        "SELECT * FROM (WITH secrets AS (SELECT 1 AS id) SELECT * FROM secrets) x, secrets",
        "WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets",
    ],
    "catalogs_out_of_scope": [
        "SELECT * FROM pg_authid",
        "SELECT * FROM pg_catalog.pg_settings",
        "SELECT * FROM information_schema.tables",
        "SELECT * FROM pg_stat_activity",
    ],
    "extensions": ["CREATE EXTENSION IF NOT EXISTS adminpack", "LOAD 'auto_explain'"],
    "foreign_data": [
        "CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw",
        "IMPORT FOREIGN SCHEMA public FROM SERVER s INTO {schema}",
    ],
    "discard": ["DISCARD ALL", "DISCARD PLANS"],
    "session_state": ["SELECT setseed(0.5)", "SELECT pg_export_snapshot()"],
    "server_info": ["SELECT version()", "SELECT inet_server_addr()", "SELECT pg_backend_pid()"],
}

SQLITE: dict[str, list[str]] = {
    "ddl": [
        "DROP TABLE customers",
        "CREATE TABLE x AS SELECT * FROM customers",
        "CREATE TABLE x (a)",
        "CREATE TRIGGER t AFTER INSERT ON orders BEGIN DELETE FROM customers; END",
        "CREATE VIRTUAL TABLE x USING fts5(a)",
        "ALTER TABLE orders ADD COLUMN x",
        "CREATE INDEX i ON orders(total)",
    ],
    "dml": [
        "DELETE FROM orders",
        "UPDATE customers SET name = 'x'",
        "INSERT INTO orders VALUES (99, 1, 1.0)",
        "REPLACE INTO orders VALUES (10, 1, 0)",
        "INSERT INTO orders VALUES (10, 1, 0) ON CONFLICT(id) DO UPDATE SET total = 0",
    ],
    "stacked_and_comments": [
        "SELECT 1; DELETE FROM orders",
        "SELECT 1 -- harmless\n; DROP TABLE orders",
        "SELECT 1 /* ; */ ; UPDATE orders SET total = 0",
        "SELECT 1 /* */ ; DELETE FROM orders /* */",
        "-- a\nDELETE FROM orders",
    ],
    "attach": [
        "ATTACH DATABASE '{dir}/evil.db' AS evil",
        "ATTACH '{dir}/evil.db' AS evil",
        "DETACH DATABASE main",
        "VACUUM INTO '{dir}/copy.db'",
    ],
    "pragmas": [
        "PRAGMA query_only = 0",
        "PRAGMA writable_schema = 1",
        "PRAGMA user_version = 7",
        "PRAGMA journal_mode = DELETE",
        "SELECT * FROM pragma_table_info('secrets')",
        "SELECT * FROM pragma_database_list",
    ],
    "transactions": ["BEGIN", "COMMIT", "SAVEPOINT s", "RELEASE s", "BEGIN IMMEDIATE"],
    "cte_writes": [
        "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
        "WITH x AS (SELECT 1) DELETE FROM orders",
    ],
    "select_into": ["SELECT * INTO stolen FROM customers"],
    "extension_and_file_functions": [
        "SELECT load_extension('/tmp/evil.so')",
        "SELECT readfile('/etc/hostname')",
        "SELECT writefile('{dir}/x', 'y')",
        "SELECT fts3_tokenizer('simple')",
        "SELECT sqlite_compileoption_get(0)",
        "SELECT edit('x')",
    ],
    "maintenance": ["VACUUM", "ANALYZE", "REINDEX"],
    "tables_out_of_scope": [
        "SELECT * FROM secrets",
        "SELECT 'x' IN secrets",
        "SELECT 1 WHERE 'hunter2' IN main.secrets",
        "SELECT c.name, s.value FROM customers c, secrets s",
        "SELECT * FROM customers WHERE id IN (SELECT id FROM secrets)",
        "SELECT * FROM main.secrets",
        "SELECT * FROM sqlite_master",
        "SELECT * FROM sqlite_schema",
        "SELECT * FROM leaky",
        "SELECT * FROM (WITH secrets AS (SELECT 1 AS id) SELECT * FROM secrets) x, secrets",
        "WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets",
        "SELECT * FROM json_each((SELECT json_group_array(value) FROM secrets))",
    ],
    "memory": [
        "SELECT zeroblob(1000000000)",
        "SELECT randomblob(200000000)",
        "SELECT replace(hex(zeroblob(75000000)), '0', 'a')",
        "SELECT printf('%.*c', 200000000, 'x')",
        "SELECT group_concat(hex(zeroblob(1000000))) FROM customers, orders, orders b",
    ],
    "runaway": [
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    ],
}
