"""Streaming tool results: generator tools stream `tool_progress`, the model gets the result."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from selectools import (
    Agent,
    RunFinished,
    ScriptedProvider,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    call,
    tool,
)


@tool
def count_to(n: int) -> Iterator[str]:
    """Count up to n, one number at a time."""
    for i in range(1, n + 1):
        yield f"{i} "


@tool
def convert_rows(rows: int) -> Iterator[dict[str, int] | str]:  # type: ignore[misc]
    """Convert rows, reporting progress; the return value is the result."""
    for done in range(1, rows + 1):
        yield {"done": done, "of": rows}
    return f"converted {rows} rows"


@tool
async def stream_words(text: str) -> AsyncIterator[str]:
    """Send the words back one by one."""
    for word in text.split():
        await asyncio.sleep(0)
        yield word + " "


@tool
def numbers(n: int) -> Iterator[int]:
    """Yield numbers (not text)."""
    yield from range(n)


def tool_messages(result: Any) -> list[str]:
    return [m.content for m in result.messages if m.role == "tool"]


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_a_generator_tool_gives_the_model_its_chunks_joined_not_a_generator_repr(
    mode: str,
) -> None:
    """Regression: the generator object itself was stringified as the tool result."""
    agent = Agent([count_to], ScriptedProvider([call("count_to", n=3), "done"]))
    result = agent.run("count") if mode == "run" else await agent.arun("count")
    assert tool_messages(result) == ["1 2 3 "]
    assert result.tool_calls[0].result == "1 2 3 "


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_the_return_value_wins_over_the_chunks(mode: str) -> None:
    agent = Agent([convert_rows], ScriptedProvider([call("convert_rows", rows=2), "ok"]))
    result = agent.run("go") if mode == "run" else await agent.arun("go")
    assert tool_messages(result) == ["converted 2 rows"]


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_async_generator_and_non_text_chunks(mode: str) -> None:
    agent = Agent(
        [stream_words, numbers],
        ScriptedProvider([[call("stream_words", text="a b c"), call("numbers", n=3)], "ok"]),
    )
    result = agent.run("go") if mode == "run" else await agent.arun("go")
    assert tool_messages(result) == ["a b c ", "[0, 1, 2]"]


def kinds(events: list[Any]) -> list[str]:
    return [e.type for e in events]


def test_stream_yields_progress_before_the_call_finishes() -> None:
    agent = Agent([convert_rows], ScriptedProvider([call("convert_rows", rows=3), "ok"]))
    events = list(agent.stream("go"))
    started = next(e for e in events if isinstance(e, ToolCallStarted))
    progress = [e for e in events if isinstance(e, ToolProgress)]
    assert [p.chunk for p in progress] == [{"done": i, "of": 3} for i in (1, 2, 3)]
    assert {(p.call_id, p.name) for p in progress} == {(started.call_id, "convert_rows")}
    order = kinds(events)
    assert order.index("tool_call_started") < order.index("tool_progress")
    last_progress = len(order) - 1 - order[::-1].index("tool_progress")
    assert last_progress < order.index("tool_call_finished")
    assert progress[0].to_dict() == {
        "type": "tool_progress",
        "run_id": started.run_id,
        "call_id": started.call_id,
        "name": "convert_rows",
        "chunk": {"done": 1, "of": 3},
    }
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.record.output == "converted 3 rows"


async def test_astream_yields_progress_of_parallel_sync_and_async_generators() -> None:
    agent = Agent(
        [count_to, stream_words],
        ScriptedProvider([[call("count_to", n=2), call("stream_words", text="x y")], "ok"]),
    )
    events = [e async for e in agent.astream("go")]
    progress = [(e.name, e.chunk) for e in events if isinstance(e, ToolProgress)]
    assert sorted(progress) == [
        ("count_to", "1 "),
        ("count_to", "2 "),
        ("stream_words", "x "),
        ("stream_words", "y "),
    ]
    order = kinds(events)
    assert max(i for i, k in enumerate(order) if k == "tool_progress") < order.index(
        "tool_call_finished"
    )
    assert isinstance(events[-1], RunFinished)


@pytest.mark.parametrize("mode", ["stream", "astream"])
async def test_progress_arrives_while_the_tool_is_still_running(mode: str) -> None:
    """The first chunk reaches the client before the tool yields its second one."""
    release = threading.Event()

    @tool
    def slow_job() -> Iterator[str]:
        """A long job that reports progress."""
        yield "started"
        if not release.wait(10):
            raise TimeoutError("the test never saw the first chunk")
        yield "finished"

    agent = Agent([slow_job], ScriptedProvider([call("slow_job"), "ok"]))
    seen: list[Any] = []
    if mode == "stream":
        for event in agent.stream("go"):
            if isinstance(event, ToolProgress) and event.chunk == "started":
                release.set()
            seen.append(event)
    else:
        async for event in agent.astream("go"):
            if isinstance(event, ToolProgress) and event.chunk == "started":
                release.set()
            seen.append(event)
    finished = next(e for e in seen if isinstance(e, ToolCallFinished))
    assert finished.record.ok, finished.record.error
    assert finished.record.output == "startedfinished"


@pytest.mark.parametrize("mode", ["run", "arun"])
async def test_a_generator_tool_that_runs_too_long_is_stopped_between_chunks(mode: str) -> None:
    produced: list[int] = []
    stopped = threading.Event()

    @tool(timeout=0.2)
    def endless() -> Iterator[int]:
        """Never ends on its own."""
        i = 0
        try:
            while True:
                produced.append(i)
                i += 1
                stopped.wait(0.01)
                yield i
        finally:
            stopped.set()

    agent = Agent([endless], ScriptedProvider([call("endless"), "ok"]))
    result = agent.run("go") if mode == "run" else await agent.arun("go")
    assert result.tool_calls[0].error_type == "timeout"
    assert stopped.wait(5), "the generator was never closed"


def test_an_error_mid_stream_is_a_tool_error_after_the_chunks_already_sent() -> None:
    @tool
    def flaky() -> Iterator[str]:
        """Fails halfway."""
        yield "part one"
        raise ValueError("disk full")

    agent = Agent([flaky], ScriptedProvider([call("flaky"), "ok"]))
    events = list(agent.stream("go"))
    assert [e.chunk for e in events if isinstance(e, ToolProgress)] == ["part one"]
    finished = next(e for e in events if isinstance(e, ToolCallFinished))
    assert finished.record.error_type == "ValueError"
    assert "disk full" in (finished.record.error or "")


def test_closing_the_stream_mid_tool_stops_the_generator() -> None:
    closed = threading.Event()

    @tool
    def forever() -> Iterator[str]:
        """Streams until told to stop."""
        try:
            while True:
                yield "tick"
        finally:
            closed.set()

    agent = Agent([forever], ScriptedProvider([call("forever"), "ok"]))
    stream = agent.stream("go")
    for event in stream:
        if isinstance(event, ToolProgress):
            break
    stream.close()
    assert closed.wait(5)


async def test_closing_the_async_stream_mid_tool_stops_the_generator() -> None:
    closed = asyncio.Event()

    @tool
    async def forever() -> AsyncIterator[str]:
        """Streams until told to stop."""
        try:
            while True:
                await asyncio.sleep(0)
                yield "tick"
        finally:
            closed.set()

    agent = Agent([forever], ScriptedProvider([call("forever"), "ok"]))
    events = agent.astream("go")
    async for event in events:
        if isinstance(event, ToolProgress):
            break
    await events.aclose()  # type: ignore[attr-defined]
    await asyncio.wait_for(closed.wait(), 5)


def test_streaming_tools_are_marked() -> None:
    assert count_to.streams
    assert stream_words.streams

    @tool
    def plain(x: int) -> int:
        """Return it."""
        return x

    assert not plain.streams


def test_plain_tools_in_a_streamed_run_are_unchanged() -> None:
    @tool
    def plain(x: int) -> int:
        """Double it."""
        return x * 2

    agent = Agent([plain], ScriptedProvider([call("plain", x=2), "ok"]))
    events = list(agent.stream("go"))
    assert "tool_progress" not in kinds(events)
    assert next(e for e in events if isinstance(e, ToolCallFinished)).record.output == "4"
