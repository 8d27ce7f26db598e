"""Message views (`selectools.sequences`): tuples in all but cost, and they never change.

A run over a long session shares the stored history instead of copying it;
whoever holds a view (a result, a request, a loaded session) must still see
exactly what was there when it was made, whatever the store appends later.
"""

from __future__ import annotations

import copy
import pickle
import threading
from typing import Any

import pytest

from selectools import Agent, Message, ModelRequest, ScriptedProvider
from selectools.memory import ConversationMemory
from selectools.sequences import SHARE_FROM, JoinedView, PrefixView, joined
from selectools.sessions import InMemorySessionStore

LONG = SHARE_FROM * 2


def views() -> list[tuple[Any, tuple[int, ...]]]:
    """Each view kind with the tuple it must behave as."""
    log = [*range(100, 100 + LONG), -1, -2]  # the log grew after the view was taken
    prefix = PrefixView(log, LONG)
    whole = tuple(range(100, 100 + LONG))
    three = joined(tuple(range(10)), [10, 11], prefix)
    nested = joined(three, (7, 8))
    return [
        (prefix, whole),
        (three, (*range(12), *whole)),
        (nested, (*range(12), *whole, 7, 8)),
    ]


@pytest.mark.parametrize(("view", "expected"), views(), ids=["prefix", "joined", "nested"])
def test_a_view_reads_exactly_as_its_tuple(view: Any, expected: tuple[int, ...]) -> None:
    assert len(view) == len(expected)
    assert tuple(view) == expected
    assert list(reversed(view)) == list(reversed(expected))
    for index in (0, 1, 11, 12, len(expected) // 2, -1, -len(expected)):
        assert view[index] == expected[index]
    for bad in (len(expected), -len(expected) - 1):
        with pytest.raises(IndexError):
            view[bad]
    for cut in (slice(None), slice(5, 40), slice(-3, None), slice(None, None, 7), slice(9, 2)):
        assert view[cut] == expected[cut]
        assert type(view[cut]) is tuple
    assert view == expected
    assert expected == view
    assert view != list(expected)  # as a tuple is never equal to a list
    assert view != expected[:-1]
    assert hash(view) == hash(expected)
    assert view + (1,) == (*expected, 1)  # noqa: RUF005 (the operator is what is tested)
    assert (1,) + view == (1, *expected)  # noqa: RUF005
    assert repr(view) == repr(expected)
    assert view.index(expected[-1]) == expected.index(expected[-1])
    assert expected[3] in view


@pytest.mark.parametrize(("view", "expected"), views(), ids=["prefix", "joined", "nested"])
def test_a_view_pickles_and_copies_as_a_plain_tuple(view: Any, expected: tuple[int, ...]) -> None:
    for clone in (pickle.loads(pickle.dumps(view)), copy.copy(view), copy.deepcopy(view)):
        assert type(clone) is tuple
        assert clone == expected


def test_short_parts_become_a_tuple_and_long_ones_are_shared() -> None:
    assert joined((1,), [2, 3], ()) == (1, 2, 3)
    assert type(joined((1,), [2, 3])) is tuple
    long = tuple(range(LONG))
    assert joined(long) is long  # one tuple: itself
    view = joined(long, (1,))
    assert isinstance(view, JoinedView)
    assert view.parts[0] is long  # shared, not copied


def test_a_list_part_is_copied_so_later_changes_do_not_show() -> None:
    items = list(range(LONG))
    view = joined(items, (LONG,))
    items.append(-1)
    items[0] = -1
    assert tuple(view) == (*range(LONG), LONG)


def test_a_stored_session_never_changes_after_it_was_loaded() -> None:
    store = InMemorySessionStore()
    store.append("s", [Message.user(f"q{i}") for i in range(LONG)])
    loaded = store.load("s")
    assert loaded is not None
    before = tuple(loaded.messages)
    store.append("s", [Message.assistant("later")])
    store.delete("s")
    assert tuple(loaded.messages) == before
    store.append("s", [Message.user("a new session under the old id")])
    again = store.load("s")
    assert again is not None
    assert [m.content for m in again.messages] == ["a new session under the old id"]
    assert tuple(loaded.messages) == before


def test_views_read_while_another_thread_appends_see_their_own_moment() -> None:
    store = InMemorySessionStore()
    store.append("s", [Message.user("0")])
    stop = threading.Event()
    seen_wrong: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            loaded = store.load("s")
            assert loaded is not None
            count = len(loaded.messages)
            contents = [m.content for m in loaded.messages]
            if contents != [str(i) for i in range(count)]:
                seen_wrong.append(f"{count}: {contents[-3:]}")

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(1, 3000):
        store.append("s", [Message.user(str(i))])
    stop.set()
    for thread in threads:
        thread.join()
    assert seen_wrong == []


def test_a_run_over_a_long_session_shares_the_history_with_request_and_result() -> None:
    store = InMemorySessionStore()
    history = [
        Message.user(f"q{i}") if i % 2 == 0 else Message.assistant(f"a{i}") for i in range(LONG)
    ]
    store.append("s", history)
    stored = store.load("s")
    assert stored is not None
    seen: list[ModelRequest] = []

    def answer(request: ModelRequest) -> str:
        seen.append(request)
        return "ok"

    agent = Agent([], ScriptedProvider(responder=answer), memory=ConversationMemory(store))
    result = agent.run("next", session_id="s")

    assert [m.content for m in result.messages] == [*(m.content for m in history), "next", "ok"]
    assert result.messages[:LONG] == tuple(history)
    assert isinstance(result.messages, JoinedView)
    assert result.messages.parts[0] is stored.messages  # the stored view itself: no copy
    request_messages = seen[0].messages
    assert isinstance(request_messages, JoinedView)
    assert request_messages.parts[0] is stored.messages
    assert [m.content for m in request_messages][-1] == "next"
    after = store.load("s")
    assert after is not None
    assert [m.content for m in after.messages][-2:] == ["next", "ok"]
    assert len(result.messages) == LONG + 2  # the store's later appends are not in it
