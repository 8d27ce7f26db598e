"""ConversationMemory's window: by count and tokens, starting at a user turn, keeping pins,
never splitting tool-call turns."""

from __future__ import annotations

import pytest

from selectools import Agent, ConversationMemory, Message, ScriptedProvider, ToolCall
from selectools.providers.scripted import call
from selectools.sessions.base import SessionStore
from tests.core.test_sessions import store  # noqa: F401  (the store fixture, every backend)


def tool_turn(n: int) -> list[Message]:
    calls = [ToolCall(f"c{n}a", "f", "{}"), ToolCall(f"c{n}b", "f", "{}")]
    return [
        Message.assistant(None, calls),
        Message.tool("r1", tool_call_id=f"c{n}a", name="f"),
        Message.tool("r2", tool_call_id=f"c{n}b", name="f"),
    ]


HISTORY = [
    Message.system("rules"),
    Message.user("u1"),
    *tool_turn(1),
    Message.assistant("a1"),
    Message.user("u2"),
    *tool_turn(2),
    Message.assistant("a2"),
    Message.user("u3"),
]


def assert_whole_tool_pairs(kept: list[Message]) -> None:
    """Every tool call in the window has all its results right after it, and no result
    appears without its call."""
    for i, message in enumerate(kept):
        if message.tool_calls:
            ids = [c.id for c in message.tool_calls]
            results = kept[i + 1 : i + 1 + len(ids)]
            assert [r.tool_call_id for r in results] == ids, kept
        if message.role == "tool":
            calls = next(m for m in reversed(kept[:i]) if m.role != "tool")
            assert message.tool_call_id in {c.id for c in calls.tool_calls}, kept


def recent_part(kept: list[Message], pins: int) -> list[Message]:
    """The window without its system messages and its first `pins` pinned messages."""
    return [m for m in kept if m.role != "system"][pins:]


def test_no_limits_keeps_everything() -> None:
    assert ConversationMemory().window(HISTORY) == HISTORY


@pytest.mark.parametrize("pin_first_user", [True, False])
@pytest.mark.parametrize("limit", range(1, len(HISTORY) + 2))
def test_window_starts_at_a_user_turn(limit: int, pin_first_user: bool) -> None:
    """The bug: a window of 6 began with the assistant's tool call whose question (u2)
    was cut off. Now the recent part of the window always opens with a user message."""
    memory = ConversationMemory(max_messages=limit, pin_first_user=pin_first_user)
    kept = memory.window(HISTORY)
    if kept == HISTORY:
        return  # nothing was cut
    recent = recent_part(kept, 1 if pin_first_user and kept[1] == HISTORY[1] else 0)
    assert recent[0].role == "user", [m.content for m in kept]
    assert kept[0] == Message.system("rules")
    assert kept[-1] == Message.user("u3")
    assert_whole_tool_pairs(kept)
    # what is kept besides the pins is the most recent suffix of the conversation
    assert recent == HISTORY[len(HISTORY) - len(recent) :]


def test_the_cut_off_question_case() -> None:
    kept = ConversationMemory(max_messages=6, pin_first_user=False).window(HISTORY)
    assert [m.content for m in kept] == ["rules", "u3"]  # not [..., call, r1, r2, a2, u3]
    kept = ConversationMemory(max_messages=7, pin_first_user=False).window(HISTORY)
    assert [m.content for m in kept] == ["rules", "u2", None, "r1", "r2", "a2", "u3"]


def test_first_user_goal_is_pinned() -> None:
    kept = ConversationMemory(max_messages=3).window(HISTORY)
    assert [m.content for m in kept] == ["rules", "u1", "u3"]


def test_pinned_messages_stay_with_their_tool_results() -> None:
    pinned_call = Message(
        "assistant", None, (ToolCall("k", "lookup", "{}"),), pinned=True
    )  # pinning a tool call keeps its result too
    history = [
        Message.user("goal"),
        Message.assistant("ok"),
        Message.user("remember this", pinned=True),
        Message.assistant("noted"),
        pinned_call,
        Message.tool("order 7 is late", tool_call_id="k", name="lookup"),
        *[m for i in range(5) for m in (Message.user(f"q{i}"), Message.assistant(f"a{i}"))],
    ]
    kept = ConversationMemory(max_messages=8).window(history)
    assert [m.content for m in kept] == [
        "goal",
        "remember this",
        None,
        "order 7 is late",
        "q3",
        "a3",
        "q4",
        "a4",
    ]
    assert_whole_tool_pairs(kept)


def test_token_window() -> None:
    long = [Message.user("x" * 400), Message.assistant("y" * 400), Message.user("short")]
    kept = ConversationMemory(max_tokens=50, pin_first_user=False).window(long)
    assert kept == [Message.user("short")]


def test_newest_turn_too_big_keeps_its_question_and_newest_exchanges() -> None:
    turn = [Message.user("do the long task")]
    for n in range(10):
        turn += [
            Message.assistant(None, [ToolCall(f"t{n}", "step", "{}")]),
            Message.tool("z" * 200, tool_call_id=f"t{n}", name="step"),
        ]
    kept = ConversationMemory(max_tokens=200, pin_first_user=False).window(turn)
    assert kept[0] == Message.user("do the long task")
    assert kept[-1] == turn[-1]
    assert 3 <= len(kept) < len(turn)
    assert sum(len(m.content or "") for m in kept) // 4 < 200
    assert_whole_tool_pairs(kept)


def test_newest_message_is_kept_even_if_over_budget() -> None:
    kept = ConversationMemory(max_tokens=5).window([Message.user("z" * 1000)])
    assert len(kept) == 1


def test_orphaned_tool_results_are_dropped() -> None:
    orphan = [Message.tool("r", tool_call_id="gone", name="f"), Message.user("hi")]
    assert ConversationMemory(max_messages=10).window(orphan) == [Message.user("hi")]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_messages=0"):
        ConversationMemory(max_messages=0)


def test_pins_are_stored_with_the_session_and_kept_by_later_runs(store: SessionStore) -> None:  # noqa: F811
    """`pinned=True` survives every store (it is stored, never sent to the model API)."""
    provider = ScriptedProvider(["ok"], cycle=True)
    agent = Agent(
        provider=provider, memory=ConversationMemory(store, max_messages=4, pin_first_user=False)
    )
    agent.run("hello", session_id="p")
    agent.run(Message.user("my account is 42", pinned=True), session_id="p")
    for i in range(6):
        agent.run(f"chat {i}", session_id="p")
    sent = [m.content for m in provider.requests[-1].messages]
    assert sent == ["my account is 42", "chat 4", "ok", "chat 5"]
    stored = store.load("p")
    assert stored is not None
    assert [m.pinned for m in stored.messages].count(True) == 1


def test_the_window_in_a_run_starts_at_the_user_turn() -> None:
    """Through the agent: stored tool turns never open the window without their question."""
    provider = ScriptedProvider([call("f"), "done"], cycle=True)
    from selectools import tool

    @tool
    def f() -> str:
        """A tool."""
        return "r"

    agent = Agent([f], provider, memory=ConversationMemory(max_messages=5, pin_first_user=False))
    for i in range(4):
        agent.run(f"q{i}", session_id="s")
    first_of_last_run = provider.requests[-2].messages
    assert first_of_last_run[0].role == "user"
    assert_whole_tool_pairs(list(first_of_last_run))
