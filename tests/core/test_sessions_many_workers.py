"""Session stores as many workers use them: concurrent first starts, bursts, fresh event loops."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from functools import partial
from typing import Any

import pytest

from selectools import Agent, ConversationMemory, Message, ScriptedProvider
from selectools.sessions import SQLAlchemySessionStore
from tests.fakes.at_once import start_at_once


def _start_store(prefix: str, url: str) -> None:
    SQLAlchemySessionStore(url, table_prefix=prefix).engine.dispose()


def test_workers_starting_at_once_on_a_fresh_database_all_start(
    postgres_url: str, unique_name: str
) -> None:
    """What `uvicorn --workers N` does on a first deploy: N processes create the schema at once."""
    prefixes = [f"{unique_name}_{attempt}_" for attempt in range(5)]
    try:
        for prefix in prefixes:
            assert start_at_once(partial(_start_store, prefix), [postgres_url], workers=3) == []
    finally:
        for prefix in prefixes:
            store = SQLAlchemySessionStore(postgres_url, table_prefix=prefix, create_tables=False)
            store.metadata.drop_all(store.engine)
            store.engine.dispose()


def test_workers_starting_at_once_on_a_fresh_sqlite_file_all_start(tmp_path: Any) -> None:
    """`gunicorn -w 4` over a SQLite file: checking for the tables and creating them is one
    step under SQLite's write lock, so no worker dies with 'table already exists'."""
    urls = [f"sqlite:///{tmp_path / f'fresh{attempt}.db'}" for attempt in range(40)]
    assert start_at_once(partial(_start_store, "selectools_"), urls, workers=4) == []


@pytest.mark.parametrize("database", ["sqlite", "postgres"])
def test_schema_can_be_created_ahead_of_time_from_the_command_line(
    database: str, request: pytest.FixtureRequest, tmp_path: Any, unique_name: str
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'ahead.db'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    command = [sys.executable, "-m", "selectools.sessions.sqlalchemy"]
    prefix = ["--table-prefix", f"{unique_name}_"]
    ddl = subprocess.run(
        [*command, "print-ddl", url, *prefix], capture_output=True, text=True, timeout=60
    )
    assert ddl.returncode == 0, ddl.stderr
    assert f"CREATE TABLE {unique_name}_sessions" in ddl.stdout
    assert f"CREATE TABLE {unique_name}_messages" in ddl.stdout
    made = subprocess.run(
        [*command, "create-schema", url, *prefix], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    store = SQLAlchemySessionStore(url, table_prefix=f"{unique_name}_", create_tables=False)
    try:
        store.append("s", [Message.user("hi")], owner="ada")
        loaded = store.load("s")
        assert loaded is not None
        assert loaded.messages == (Message.user("hi"),)
    finally:
        store.metadata.drop_all(store.engine)
        store.engine.dispose()


def test_a_stored_turn_is_one_statement_on_postgres(postgres_url: str, unique_name: str) -> None:
    """One round trip per turn (issue #14): the upsert, owner check and inserts in one statement."""
    import sqlalchemy as sa

    store = SQLAlchemySessionStore(postgres_url, table_prefix=f"{unique_name}_")
    statements: list[str] = []

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    try:
        store.append("t", [Message.user("a"), Message.assistant("b")], owner="ada")
        store.append("t", [Message.user("c"), Message.assistant("d")], owner="ada")
        assert len(statements) == 2
        statements.clear()
        assert store.load("t") is not None
        assert len(statements) == 1
        loaded = store.load("t")
        assert loaded is not None
        assert [m.content for m in loaded.messages] == ["a", "b", "c", "d"]
    finally:
        store.metadata.drop_all(store.engine)
        store.engine.dispose()


def test_redis_stores_300_concurrent_turns_on_one_worker(redis_url: str, unique_name: str) -> None:
    """More concurrent turns than the pool has connections: they wait for one, none fails."""
    from selectools.sessions import RedisSessionStore

    store = RedisSessionStore(redis_url, prefix=f"{unique_name}:", max_connections=20)
    agent = Agent(provider=ScriptedProvider(["ok"], cycle=True), memory=ConversationMemory(store))

    async def burst() -> list[Any]:
        turns = (
            agent.arun(f"turn {i}", session_id=f"s{i}", identity=f"user{i}") for i in range(300)
        )
        return await asyncio.gather(*turns, return_exceptions=True)

    try:
        results = asyncio.run(burst())
        failures = [r for r in results if isinstance(r, BaseException)]
        assert failures == []
        for i in (0, 150, 299):
            stored = store.load(f"s{i}")
            assert stored is not None
            assert [m.content for m in stored.messages] == [f"turn {i}", "ok"]
    finally:
        for key in store.client.scan_iter(f"{unique_name}:*"):
            store.client.delete(key)


def test_redis_async_calls_work_in_one_fresh_event_loop_after_another(
    redis_url: str, unique_name: str
) -> None:
    """Scripts, CLIs and Celery tasks call `asyncio.run` per job: no client outlives its loop."""
    from selectools.sessions import RedisSessionStore

    store = RedisSessionStore(redis_url, prefix=f"{unique_name}:")
    agent = Agent(provider=ScriptedProvider(["ok"], cycle=True), memory=ConversationMemory(store))
    try:
        for turn in range(3):
            asyncio.run(agent.arun(f"turn {turn}", session_id="loops", identity="ada"))
        stored = store.load("loops")
        assert stored is not None
        assert len(stored.messages) == 6
    finally:
        for key in store.client.scan_iter(f"{unique_name}:*"):
            store.client.delete(key)
