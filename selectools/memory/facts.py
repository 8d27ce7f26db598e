"""Long-term facts per identity: what an agent remembers about a caller across sessions.

Every call takes the identity first and touches only that identity's facts:
reads filter by it, deletes match id AND identity. The identity always comes
from the run context (see `memory_tools`), never from the model.

Stores: `InMemoryFactStore`, `SQLAlchemyFactStore` (SQLite, PostgreSQL),
`RedisFactStore`, and `ChromaFactStore` for recall by meaning; `facts_for`
builds the one matching a session store, on the same database.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..extras import require
from ..frozen import record
from ..sql_schema import create_tables, engine_for

if TYPE_CHECKING:
    from ..sessions.base import SessionStore

__all__ = [
    "ChromaFactStore",
    "Fact",
    "FactStore",
    "InMemoryFactStore",
    "RedisFactStore",
    "SQLAlchemyFactStore",
    "facts_for",
    "rank",
]


@record
class Fact:
    """One remembered fact; `id` is what `forget` takes."""

    id: str
    text: str
    created_at: float


@runtime_checkable
class FactStore(Protocol):
    """Facts by identity. `recent` is newest first; `search` best match first."""

    def add(self, identity: str, text: str) -> Fact: ...

    def recent(self, identity: str, limit: int) -> list[Fact]: ...

    def search(self, identity: str, query: str, limit: int) -> list[Fact]: ...

    def delete(self, identity: str, fact_id: str) -> bool: ...

    def count(self, identity: str) -> int: ...


_WORD = re.compile(r"\w+")


def rank(facts: Iterable[Fact], query: str, limit: int) -> list[Fact]:
    """Facts sharing the most words with `query` (then the newest); none share: the newest."""
    words = {w for w in _WORD.findall(query.lower()) if len(w) > 2}
    scored = [(len(words & set(_WORD.findall(f.text.lower()))), f.created_at, f) for f in facts]
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    matching = [f for score, _, f in scored if score > 0]
    return (matching or [f for _, _, f in scored])[:limit]


def _new(text: str) -> Fact:
    return Fact(os.urandom(8).hex(), text, time.time())


class _ScanSearch:
    """`search` by word overlap over an identity's newest `scan` facts."""

    scan = 1000

    def recent(self, identity: str, limit: int) -> list[Fact]:
        raise NotImplementedError

    def search(self, identity: str, query: str, limit: int) -> list[Fact]:
        return rank(self.recent(identity, self.scan), query, limit)


class InMemoryFactStore(_ScanSearch):
    """Facts in this process (tests, one worker); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._facts: dict[str, dict[str, Fact]] = {}

    def add(self, identity: str, text: str) -> Fact:
        fact = _new(text)
        with self._lock:
            self._facts.setdefault(identity, {})[fact.id] = fact
        return fact

    def recent(self, identity: str, limit: int) -> list[Fact]:
        with self._lock:
            facts = list(self._facts.get(identity, {}).values())
        return sorted(facts, key=lambda f: f.created_at, reverse=True)[:limit]

    def delete(self, identity: str, fact_id: str) -> bool:
        with self._lock:
            return self._facts.get(identity, {}).pop(fact_id, None) is not None

    def count(self, identity: str) -> int:
        with self._lock:
            return len(self._facts.get(identity, {}))


class SQLAlchemyFactStore(_ScanSearch):
    """Facts as rows of `{table_prefix}facts` (indexed by identity) in any SQLAlchemy database."""

    def __init__(
        self,
        url_or_engine: Any = "sqlite:///selectools_sessions.db",
        *,
        table_prefix: str = "selectools_",
        create_tables: bool = True,
    ) -> None:
        sa = require("sqlalchemy", extra="sql", feature="SQLAlchemyFactStore")
        self.engine = engine_for(url_or_engine)
        self.metadata = sa.MetaData()
        self.table = sa.Table(
            f"{table_prefix}facts",
            self.metadata,
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("identity", sa.String(255), nullable=False, index=True),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
        )
        self.table_prefix = table_prefix
        if create_tables:
            self.create_schema()

    def create_schema(self) -> None:
        """Create the table if missing; safe when many workers start at once."""
        create_tables(self.engine, self.metadata, f"selectools:facts:{self.table_prefix}")

    def add(self, identity: str, text: str) -> Fact:
        fact = _new(text)
        with self.engine.begin() as conn:
            conn.execute(
                self.table.insert().values(
                    id=fact.id, identity=identity, text=text, created_at=fact.created_at
                )
            )
        return fact

    def recent(self, identity: str, limit: int) -> list[Fact]:
        t = self.table
        query = (
            t.select().where(t.c.identity == identity).order_by(t.c.created_at.desc()).limit(limit)
        )
        with self.engine.connect() as conn:
            return [Fact(r.id, r.text, r.created_at) for r in conn.execute(query)]

    def delete(self, identity: str, fact_id: str) -> bool:
        t = self.table
        with self.engine.begin() as conn:
            deleted = conn.execute(t.delete().where(t.c.id == fact_id, t.c.identity == identity))
            return bool(deleted.rowcount)

    def count(self, identity: str) -> int:
        import sqlalchemy as sa

        t = self.table
        with self.engine.connect() as conn:
            query = sa.select(sa.func.count()).where(t.c.identity == identity)
            return int(conn.execute(query).scalar() or 0)


class RedisFactStore(_ScanSearch):
    """A Redis hash per identity (its key is a hash of the identity under `prefix`)."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "selectools:facts:",
        client: Any = None,
    ) -> None:
        redis = require("redis", extra="redis", feature="RedisFactStore")
        self.client = client if client is not None else redis.Redis.from_url(url)
        self.prefix = prefix

    def _key(self, identity: str) -> str:
        import hashlib

        return self.prefix + hashlib.sha256(identity.encode()).hexdigest()[:40]

    def add(self, identity: str, text: str) -> Fact:
        fact = _new(text)
        body = json.dumps({"text": text, "created_at": fact.created_at}, ensure_ascii=False)
        self.client.hset(self._key(identity), fact.id, body)
        return fact

    def recent(self, identity: str, limit: int) -> list[Fact]:
        raw = self.client.hgetall(self._key(identity))
        facts = []
        for key, value in raw.items():
            body = json.loads(value)
            facts.append(Fact(key.decode(), body["text"], float(body["created_at"])))
        return sorted(facts, key=lambda f: f.created_at, reverse=True)[:limit]

    def delete(self, identity: str, fact_id: str) -> bool:
        return bool(self.client.hdel(self._key(identity), fact_id))

    def count(self, identity: str) -> int:
        return int(self.client.hlen(self._key(identity)))


class ChromaFactStore:
    """Facts in a chromadb collection, recalled by meaning (embedding similarity).

    Every query and delete is filtered by the identity's metadata, so a
    near-identical fact of another identity is never returned or removed.
    """

    def __init__(
        self,
        embedding_function: Any,
        *,
        client: Any = None,
        collection: str = "selectools_facts",
    ) -> None:
        chromadb = require("chromadb", extra="chroma", feature="ChromaFactStore")
        client = client if client is not None else chromadb.EphemeralClient()
        self.collection = client.get_or_create_collection(
            collection,
            embedding_function=embedding_function,
            configuration={"hnsw": {"space": "cosine"}},
        )

    def add(self, identity: str, text: str) -> Fact:
        fact = _new(text)
        self.collection.add(
            ids=[fact.id],
            documents=[text],
            metadatas=[{"identity": identity, "created_at": fact.created_at}],
        )
        return fact

    def recent(self, identity: str, limit: int) -> list[Fact]:
        found = self.collection.get(
            where={"identity": identity}, include=["documents", "metadatas"]
        )
        facts = [
            Fact(i, d, float(m["created_at"]))
            for i, d, m in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        ]
        return sorted(facts, key=lambda f: f.created_at, reverse=True)[:limit]

    def search(self, identity: str, query: str, limit: int) -> list[Fact]:
        if not self.count(identity):
            return []
        found = self.collection.query(
            query_texts=[query],
            n_results=limit,
            where={"identity": identity},
            include=["documents", "metadatas"],
        )
        return [
            Fact(i, d, float(m["created_at"]))
            for i, d, m in zip(
                found["ids"][0], found["documents"][0], found["metadatas"][0], strict=True
            )
        ]

    def delete(self, identity: str, fact_id: str) -> bool:
        found = self.collection.get(ids=[fact_id], where={"identity": identity})
        if not found["ids"]:
            return False
        self.collection.delete(ids=found["ids"])
        return True

    def count(self, identity: str) -> int:
        return len(self.collection.get(where={"identity": identity}, include=[])["ids"])


_matching: weakref.WeakKeyDictionary[Any, FactStore] = weakref.WeakKeyDictionary()
_matching_lock = threading.Lock()


def facts_for(store: SessionStore) -> FactStore:
    """The fact store on the same backend as a session store (same database or Redis);
    the same one for every call with the same session store."""
    with _matching_lock:
        found = _matching.get(store)
        if found is None:
            found = _matching[store] = _build_for(store)
        return found


def _build_for(store: Any) -> FactStore:
    kind = type(store).__name__
    if kind == "SQLAlchemySessionStore":
        return SQLAlchemyFactStore(store.engine, table_prefix=store.table_prefix)
    if kind == "RedisSessionStore":
        return RedisFactStore(client=store.client, prefix=f"{store.prefix}facts:")
    if kind == "InMemorySessionStore":
        return InMemoryFactStore()
    raise TypeError(
        f"No fact store matches {kind}: pass a FactStore (InMemoryFactStore, "
        f"SQLAlchemyFactStore, RedisFactStore, ChromaFactStore) instead."
    )
