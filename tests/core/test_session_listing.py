"""Listing one owner's sessions (the playground's list): never another owner's, never unowned."""

from __future__ import annotations

from pathlib import Path

import pytest

from selectools import Message
from selectools.sessions import InMemorySessionStore, SessionLister, SQLAlchemySessionStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> SessionLister:
    if request.param == "memory":
        return InMemorySessionStore()
    return SQLAlchemySessionStore(f"sqlite:///{tmp_path / 's.db'}")


def test_lists_only_the_owners_sessions_newest_first(store: SessionLister) -> None:
    writer = store  # the same object is a SessionStore too
    writer.append("ada-1", [Message("user", "hi")], owner="ada")  # type: ignore[attr-defined]
    writer.append("bob-1", [Message("user", "yo")], owner="bob")  # type: ignore[attr-defined]
    writer.append("open-1", [Message("user", "anyone")])  # type: ignore[attr-defined]
    writer.append(  # type: ignore[attr-defined]
        "ada-2", [Message("user", "a"), Message("assistant", "b")], owner="ada"
    )
    listed = store.list_owned("ada")
    assert [(s.id, s.message_count) for s in listed] == [("ada-2", 2), ("ada-1", 1)]
    assert [s.id for s in store.list_owned("bob")] == ["bob-1"]
    assert store.list_owned("eve") == []
    assert [s.id for s in store.list_owned("ada", limit=1)] == ["ada-2"]


async def test_async_listing(store: SessionLister) -> None:
    await store.aappend("x", [Message("user", "hi")], owner="ada")  # type: ignore[attr-defined]
    assert [s.id for s in await store.alist_owned("ada")] == ["x"]
