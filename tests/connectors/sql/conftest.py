"""Fixtures for the SQL connector: the shop in SQLite and in a PostgreSQL schema of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from selectools_sql import SQLToolkit

from .shop import PgShop, create_sqlite_shop


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Path:
    return create_sqlite_shop(tmp_path / "shop.db")


@pytest.fixture
def toolkit(sqlite_db: Path) -> Iterator[SQLToolkit]:
    with SQLToolkit(f"sqlite:///{sqlite_db}", include_tables=["customers", "orders"]) as kit:
        yield kit


@pytest.fixture
def pg_shop(postgres_url: str) -> Iterator[PgShop]:
    admin = sa.create_engine(postgres_url)
    shop = PgShop(url=postgres_url, admin=admin)
    try:
        shop.create()
        yield shop
    finally:
        shop.drop()
        admin.dispose()


@pytest.fixture
def pg_reader_role(pg_shop: PgShop) -> Iterator[str]:
    """A login made from `create_reader_role_sql` that may read customers and orders only."""
    role = f"sel_reader_{uuid.uuid4().hex[:10]}"
    database = sa.engine.make_url(pg_shop.url).database
    recipe = SQLToolkit.create_reader_role_sql(
        ["customers", "orders"], role=role, database=database, schema=pg_shop.schema
    )
    with pg_shop.admin.begin() as conn:
        conn.exec_driver_sql(recipe)
    try:
        yield role
    finally:
        with pg_shop.admin.begin() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")


@pytest.fixture
def pg_reader(pg_shop: PgShop, pg_reader_role: str) -> Iterator[sa.Engine]:
    """An engine on the shop, logged in as the reader role."""
    engine = pg_shop.engine(user=pg_reader_role)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_admin_engine(pg_shop: PgShop) -> Iterator[sa.Engine]:
    """An engine on the shop, logged in as the superuser (the worst case for the layers)."""
    engine = pg_shop.engine()
    yield engine
    engine.dispose()
