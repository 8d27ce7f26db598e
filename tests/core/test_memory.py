"""ConversationMemory's window: by count and tokens, never splitting tool-call turns."""

from __future__ import annotations

import pytest

from selectools import ConversationMemory, Message, ToolCall


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


def test_no_limits_keeps_everything() -> None:
    assert ConversationMemory().window(HISTORY) == HISTORY


@pytest.mark.parametrize("limit", range(1, len(HISTORY) + 2))
def test_count_window_never_splits_tool_turns(limit: int) -> None:
    kept = ConversationMemory(max_messages=limit).window(HISTORY)
    assert kept[0] == Message.system("rules")
    assert kept[-1] == Message.user("u3")
    assert len(kept) <= max(limit, 2)
    for i, message in enumerate(kept):
        if message.role == "tool":  # every result follows its call or a sibling result
            assert kept[i - 1].role == "tool" or kept[i - 1].tool_calls
    # and whatever is kept is the most recent suffix of the conversation
    non_system = [m for m in kept if m.role != "system"]
    assert non_system == HISTORY[len(HISTORY) - len(non_system) :]


def test_count_window_drops_whole_tool_turn() -> None:
    kept = ConversationMemory(max_messages=5).window(HISTORY)
    # system + the 4 newest fit only if the 3-message tool turn is dropped whole
    assert [m.content for m in kept] == ["rules", "a2", "u3"]


def test_token_window() -> None:
    long = [Message.user("x" * 400), Message.assistant("y" * 400), Message.user("short")]
    kept = ConversationMemory(max_tokens=50).window(long)
    assert kept == [Message.user("short")]


def test_newest_message_is_kept_even_if_over_budget() -> None:
    kept = ConversationMemory(max_tokens=5).window([Message.user("z" * 1000)])
    assert len(kept) == 1


def test_orphaned_tool_results_are_dropped() -> None:
    orphan = [Message.tool("r", tool_call_id="gone", name="f"), Message.user("hi")]
    assert ConversationMemory(max_messages=10).window(orphan) == [Message.user("hi")]


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_messages=0"):
        ConversationMemory(max_messages=0)
