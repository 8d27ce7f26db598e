"""The role layer: a privileged login is refused unless asked for, and the recipe makes a
login that can only read the listed tables."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from selectools_sql import (
    PrivilegedRoleError,
    QueryFailedError,
    SQLToolkit,
    create_reader_role_sql,
)

from .shop import PgShop


def test_the_recipe_grants_reading_the_listed_tables_only() -> None:
    recipe = SQLToolkit.create_reader_role_sql(
        ["orders", "sales.Customers", '"Odd""Name"'],
        role='agent "x"',
        database="shop",
        password="it's",
    )
    assert recipe.splitlines()[1:-1] == [
        'CREATE ROLE "agent ""x""" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION '
        "PASSWORD 'it''s';",
        'ALTER ROLE "agent ""x""" SET default_transaction_read_only = on;',
        'ALTER ROLE "agent ""x""" SET statement_timeout = 10000;',
        'GRANT CONNECT ON DATABASE "shop" TO "agent ""x""";',
        'GRANT USAGE ON SCHEMA "public" TO "agent ""x""";',
        'GRANT USAGE ON SCHEMA "sales" TO "agent ""x""";',
        'GRANT SELECT ON TABLE "public"."orders", "sales"."customers", "public"."Odd""Name" '
        'TO "agent ""x""";',
    ]
    with pytest.raises(ValueError, match="at least one table"):
        create_reader_role_sql([])


def test_the_cli_prints_the_same_recipe() -> None:
    printed = subprocess.run(
        [
            *(sys.executable, "-m", "selectools_sql", "reader-role", "orders", "customers"),
            *("--role", "agent_reader", "--database", "shop"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert printed == create_reader_role_sql(
        ["orders", "customers"], role="agent_reader", database="shop"
    )


def test_a_superuser_is_refused_unless_allowed(pg_admin_engine: sa.Engine) -> None:
    with pytest.raises(PrivilegedRoleError) as refused:
        SQLToolkit(pg_admin_engine, include_tables=["customers", "orders"])
    message = str(refused.value)
    assert "is a superuser" in message
    assert "create_reader_role_sql" in message
    assert "allow_privileged_role=True" in message
    kit = SQLToolkit(
        pg_admin_engine, include_tables=["customers", "orders"], allow_privileged_role=True
    )
    assert kit.run_query("SELECT count(*) FROM orders")["rows"] == [[4]]


@pytest.fixture
def pg_writer_role(pg_shop: PgShop) -> Iterator[str]:
    """A plain login that may read customers and also change orders."""
    role = f"sel_writer_{uuid.uuid4().hex[:10]}"
    s = pg_shop.schema
    with pg_shop.admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {s} TO {role}")
        conn.exec_driver_sql(f"GRANT SELECT ON {s}.customers, {s}.orders TO {role}")
        conn.exec_driver_sql(f"GRANT UPDATE (total) ON {s}.orders TO {role}")
    try:
        yield role
    finally:
        with pg_shop.admin.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


def test_a_role_that_may_write_to_the_tables_it_reads_is_refused(
    pg_shop: PgShop, pg_writer_role: str
) -> None:
    engine = pg_shop.engine(user=pg_writer_role)
    try:
        with pytest.raises(PrivilegedRoleError, match=r"may write to orders\."):
            SQLToolkit(engine, include_tables=["customers", "orders"])
        # customers alone: nothing it reads can be written
        assert SQLToolkit(engine, include_tables=["customers"]).list_tables() == ["customers"]
        # and a write tool on orders expects exactly that privilege
        writer = SQLToolkit(
            engine, include_tables=["customers", "orders"], writable_tables=["orders"]
        )
        assert writer.execute_write("UPDATE orders SET total = 2 WHERE id = 10") == {
            "rows_affected": 1
        }
    finally:
        engine.dispose()


def test_the_reader_role_is_accepted_and_scopes_reads_in_the_database(
    pg_reader: sa.Engine,
) -> None:
    """Even with no include_tables at all, the role itself keeps secrets out of reach."""
    kit = SQLToolkit(pg_reader)
    assert kit.run_query("SELECT count(*) FROM customers")["rows"] == [[3]]
    with pytest.raises(QueryFailedError, match="permission denied for table secrets"):
        kit.run_query("SELECT * FROM secrets")
    # a write tool over this login gets nowhere: the role may not write
    writer = SQLToolkit(pg_reader, writable_tables=["orders"])
    with pytest.raises(QueryFailedError, match="permission denied for table orders"):
        writer.execute_write("UPDATE orders SET total = 0")
