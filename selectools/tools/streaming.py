"""Generator tools: what they yield is streamed as progress, what the model reads is one result.

A tool may be a generator or an async generator. Each item it yields goes to
the run's stream as a `tool_progress` event as soon as it is yielded (with
`stream()`/`astream()` and over SSE). The model receives one result, by this
rule:

- the generator's return value, when it returns something other than None
  (`return summary` in a sync generator);
- otherwise the chunks joined: strings concatenated, anything else as a list.

Async generators cannot return a value, so their result is always the joined
chunks. A generator is closed as soon as its call times out or the run is
cancelled or abandoned, at its next `yield`.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

__all__ = ["ProgressSink", "drain_async", "drain_sync", "is_streaming_callable", "joined_result"]

ProgressSink = Callable[[Any], None]
"""Receives each chunk a streaming tool yields, from whichever thread runs it."""


def is_streaming_callable(func: Callable[..., Any]) -> bool:
    """True for a generator or async-generator function (also behind `functools.partial`)."""
    while isinstance(func, functools.partial):
        func = func.func
    return inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)


def joined_result(chunks: list[Any], returned: Any = None) -> Any:
    """The result the model reads: the return value, or the chunks joined."""
    if returned is not None:
        return returned
    if chunks and all(isinstance(chunk, str) for chunk in chunks):
        return "".join(chunks)
    return chunks


def drain_sync(
    generator: Generator[Any, Any, Any],
    emit: ProgressSink | None,
    stop: threading.Event | None = None,
) -> Any:
    """Run a generator to its end, handing each chunk to `emit`; `stop` closes it early."""
    chunks: list[Any] = []
    try:
        while True:
            if stop is not None and stop.is_set():
                raise TimeoutError("stopped while streaming")
            try:
                chunk = next(generator)
            except StopIteration as done:
                return joined_result(chunks, done.value)
            chunks.append(chunk)
            if emit is not None:
                emit(chunk)
    finally:
        generator.close()


async def drain_async(
    generator: AsyncGenerator[Any, Any],
    emit: ProgressSink | None,
    stop: threading.Event | None = None,
) -> Any:
    """Async `drain_sync`; cancelling the caller closes the generator."""
    chunks: list[Any] = []
    async with contextlib.aclosing(generator):
        async for chunk in generator:
            if stop is not None and stop.is_set():
                raise TimeoutError("stopped while streaming")
            chunks.append(chunk)
            if emit is not None:
                emit(chunk)
    return joined_result(chunks)
