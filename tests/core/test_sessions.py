"""Session stores: in memory, SQLite (the default) and PostgreSQL, restarts and races."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from selectools import (
    Agent,
    ConversationMemory,
    InMemorySessionStore,
    Message,
    ModelRequest,
    ScriptedProvider,
    SessionNotFoundError,
    SessionStore,
)
from selectools.sessions import SQLAlchemySessionStore


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, unique_name: str
) -> Iterator[SessionStore]:
    if request.param == "memory":
        yield InMemorySessionStore()
        return
    if request.param == "sqlite":
        yield SQLAlchemySessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
        return
    if request.param == "redis":
        from selectools.sessions import RedisSessionStore

        redis_store = RedisSessionStore(
            request.getfixturevalue("redis_url"), prefix=f"{unique_name}:"
        )
        yield redis_store
        for key in redis_store.client.scan_iter(f"{unique_name}:*"):
            redis_store.client.delete(key)
        return
    url = request.getfixturevalue("postgres_url")
    pg = SQLAlchemySessionStore(url, table_prefix=f"{unique_name}_")
    yield pg
    pg.metadata.drop_all(pg.engine)
    pg.engine.dispose()


def test_append_load_delete(store: SessionStore) -> None:
    assert store.load("s") is None
    store.append("s", [Message.user("hi"), Message.assistant("hello")], owner="ada")
    store.append("s", [Message.user("again")], owner="ada")
    with pytest.raises(SessionNotFoundError):  # the owner is checked where it is written
        store.append("s", [Message.user("intruder")], owner="someone-else")
    with pytest.raises(SessionNotFoundError):
        store.append("s", [Message.user("anonymous")])
    loaded = store.load("s")
    assert loaded is not None
    assert [m.content for m in loaded.messages] == ["hi", "hello", "again"]
    assert loaded.owner == "ada"  # the first append decides
    assert store.delete("s") is True
    assert store.load("s") is None
    assert store.delete("s") is False


def test_messages_round_trip_with_tool_calls(store: SessionStore) -> None:
    from selectools import ToolCall

    messages = [
        Message.assistant(None, [ToolCall("c1", "f", '{"x": 1}')]),
        Message.tool("ünïcode ✓", tool_call_id="c1", name="f"),
    ]
    store.append("t", messages)
    loaded = store.load("t")
    assert loaded is not None
    assert list(loaded.messages) == messages


def test_images_and_files_round_trip(store: SessionStore) -> None:
    from selectools import ContentPart

    message = Message.user(
        [
            "compare",
            ContentPart.image(data=b"\x89PNG\r\n\x1a\n\x00\x01"),
            ContentPart.image(url="https://example.com/b.jpg", detail="high"),
            ContentPart.file(data=b"%PDF-1.4 x", filename="r.pdf"),
        ]
    )
    store.append("v", [message])
    loaded = store.load("v")
    assert loaded is not None
    assert list(loaded.messages) == [message]


async def test_async_methods(store: SessionStore) -> None:
    await store.aappend("a", [Message.user("x")])
    loaded = await store.aload("a")
    assert loaded is not None
    assert loaded.messages == (Message.user("x"),)
    assert await store.adelete("a") is True


def test_concurrent_appends_lose_nothing_and_keep_batches_whole(store: SessionStore) -> None:
    writers, batches = 6, 15
    start = threading.Barrier(writers)

    def write(w: int) -> None:
        start.wait()
        for b in range(batches):
            store.append("race", [Message.user(f"{w}:{b}:0"), Message.user(f"{w}:{b}:1")])

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    loaded = store.load("race")
    assert loaded is not None
    contents = [m.content or "" for m in loaded.messages]
    assert len(contents) == writers * batches * 2
    for i in range(0, len(contents), 2):  # each batch is contiguous
        assert contents[i].endswith(":0")
        assert contents[i + 1] == contents[i][:-1] + "1"
    for w in range(writers):  # each writer's batches are in its order
        mine = [c for c in contents if c.startswith(f"{w}:") and c.endswith(":0")]
        assert mine == [f"{w}:{b}:0" for b in range(batches)]


def test_conversation_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'chat.db'}"
    first = Agent(
        provider=ScriptedProvider(["Hi Ada."]),
        memory=ConversationMemory(SQLAlchemySessionStore(url)),
    )
    first.run("I am Ada.", session_id="conv")
    provider = ScriptedProvider(["You are Ada."])
    restarted = Agent(provider=provider, memory=ConversationMemory(SQLAlchemySessionStore(url)))
    assert restarted.run("Who am I?", session_id="conv").text == "You are Ada."
    assert [m.content for m in provider.requests[0].messages] == [
        "I am Ada.",
        "Hi Ada.",
        "Who am I?",
    ]


def test_window_applies_to_stored_history(tmp_path: Path) -> None:
    provider = ScriptedProvider(["ok"], cycle=True)
    memory = ConversationMemory(max_messages=3)
    agent = Agent(provider=provider, memory=memory, system_prompt="sys")
    for i in range(4):
        agent.run(f"m{i}", session_id="w")
    sent = [m.content for m in provider.requests[-1].messages]
    # system prompt and first question (the goal) pinned, the window of 3 starts at a user turn
    assert sent == ["sys", "m0", "m3"]
    stored = memory.store.load("w")
    assert stored is not None
    assert len(stored.messages) == 8  # the store keeps everything


def test_redis_sessions_expire(redis_url: str, unique_name: str) -> None:
    from selectools.sessions import RedisSessionStore

    store = RedisSessionStore(redis_url, prefix=f"{unique_name}:", ttl_seconds=100)
    store.append("t", [Message.user("hi")], owner="ada")
    ttl = store.client.ttl(f"{unique_name}:t:messages")
    assert 0 < ttl <= 100
    assert store.client.ttl(f"{unique_name}:t:owner") > 0
    store.delete("t")


def test_agent_sessions_in_redis_survive_a_new_store(redis_url: str, unique_name: str) -> None:
    def agent(reply: str) -> Agent:
        from selectools.sessions import RedisSessionStore

        store = RedisSessionStore(redis_url, prefix=f"{unique_name}:")
        return Agent(provider=ScriptedProvider([reply]), memory=ConversationMemory(store))

    agent("Hi Ada.").run("I am Ada.", session_id="r1", identity="ada")
    second = agent("You are Ada.")
    second.run("Who am I?", session_id="r1", identity="ada")
    provider = second.provider
    assert isinstance(provider, ScriptedProvider)
    assert [m.content for m in provider.requests[0].messages] == [
        "I am Ada.",
        "Hi Ada.",
        "Who am I?",
    ]
    second.memory.store.delete("r1")


def test_claim_is_atomic_one_of_many_wins(store: SessionStore) -> None:
    claimers = 8
    start = threading.Barrier(claimers)
    owners: list[str | None] = []

    def claim(i: int) -> None:
        start.wait()
        owners.append(store.claim("contested", f"user-{i}").owner)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(claimers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(owners) == claimers
    assert len(set(owners)) == 1  # everyone saw the one winner
    stored = store.load("contested")
    assert stored is not None
    assert stored.owner == owners[0]
    assert stored.messages == ()


async def test_async_claim_and_owner_checked_append(store: SessionStore) -> None:
    claimed = await store.aclaim("mine", "ada")
    assert claimed.owner == "ada"
    assert (await store.aclaim("mine", "bob")).owner == "ada"
    with pytest.raises(SessionNotFoundError):
        await store.aappend("mine", [Message.user("bob was here")], owner="bob")
    await store.aappend("mine", [Message.user("ada was here")], owner="ada")
    loaded = await store.aload("mine")
    assert loaded is not None
    assert [m.content for m in loaded.messages] == ["ada was here"]


def _gated_agent(store: SessionStore, gate: threading.Event, waiting: threading.Event) -> Agent:
    """A model that holds the first caller's run (identity 'ada' or none) until the gate opens."""

    def respond(request: ModelRequest) -> str:
        who = request.context.identity if request.context else None
        if who in ("ada", None):
            waiting.set()
            assert gate.wait(10), "the test never opened the gate"
        return f"hello {who}"

    return Agent(provider=ScriptedProvider(responder=respond), memory=ConversationMemory(store))


def test_two_identities_starting_one_new_session_cannot_both_get_in(store: SessionStore) -> None:
    """Ada's run is mid-model-call when Bob starts the same new id: Bob is refused."""
    gate, waiting = threading.Event(), threading.Event()
    agent = _gated_agent(store, gate, waiting)
    ada = threading.Thread(
        target=agent.run, args=("I am Ada",), kwargs={"session_id": "new", "identity": "ada"}
    )
    ada.start()
    try:
        assert waiting.wait(10)
        with pytest.raises(SessionNotFoundError):
            agent.run("I am Bob", session_id="new", identity="bob")
    finally:
        gate.set()
        ada.join(10)
    stored = store.load("new")
    assert stored is not None
    assert stored.owner == "ada"
    assert [m.content for m in stored.messages] == ["I am Ada", "hello ada"]


def test_owner_is_checked_again_when_the_turn_is_saved(store: SessionStore) -> None:
    """An anonymous run starts on a free id; Ada claims and uses it meanwhile; the
    anonymous turn is refused where it is written, not saved into Ada's session."""
    gate, waiting = threading.Event(), threading.Event()
    agent = _gated_agent(store, gate, waiting)
    failures: list[BaseException] = []

    def anonymous() -> None:
        try:
            agent.run("sneaky", session_id="shared")
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=anonymous)
    thread.start()
    try:
        assert waiting.wait(10)
        fast = Agent(provider=ScriptedProvider(["hi Ada"]), memory=agent.memory)
        fast.run("I am Ada", session_id="shared", identity="ada")
    finally:
        gate.set()
        thread.join(10)
    assert [type(e) for e in failures] == [SessionNotFoundError]
    stored = store.load("shared")
    assert stored is not None
    assert [m.content for m in stored.messages] == ["I am Ada", "hi Ada"]
