"""Sync code calling async code and back, with the caller's contextvars, from anywhere.

Public for adapters and plugins (a WSGI view driving an async stream, a sync
SDK called from `arun`):

- `run_coroutine_sync(coro, timeout=)`: run a coroutine from sync code, even
  inside a running event loop (Jupyter, async servers). One daemon thread owns
  a private event loop; a caller that stops waiting (timeout) cancels it.
- `sync_iterate(agen, deadline=)`: drive an async iterator from sync code.
- `await_on_bridge(coro)`: await work on the bridge loop from any other loop.
- `run_in_thread(func, ...)`: await a blocking callable without blocking the loop.
- `submit_in_thread(func, ...)`: start one and get a `concurrent.futures.Future`.

The caller's contextvars (request identity, trace context) travel every hop.
asyncio and concurrent.futures load with the first call that needs them, so
a program that never leaves sync code never imports them (each call's own
`import` is a dictionary lookup beside the thread hop it makes).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures

__all__ = [
    "await_on_bridge",
    "run_coroutine_sync",
    "run_in_thread",
    "submit_in_thread",
    "sync_iterate",
    "tool_executor",
]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_tool_executor: concurrent.futures.ThreadPoolExecutor | None = None

TOOL_THREADS = 64
CANCEL_GRACE = 5.0  # seconds a cancelled coroutine gets to finish its cleanup


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            import asyncio

            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="selectools-bridge", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop


def tool_executor() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for sync tools; larger than asyncio's default so parallel calls do not queue."""
    global _tool_executor
    with _lock:
        if _tool_executor is None:
            import concurrent.futures

            _tool_executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=TOOL_THREADS, thread_name_prefix="selectools-tool"
            )
        return _tool_executor


def run_coroutine_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run `coro` to completion on the bridge loop and return its result."""
    import concurrent.futures

    loop = _background_loop()
    context = contextvars.copy_context()
    done: concurrent.futures.Future[T] = concurrent.futures.Future()
    task_box: list[asyncio.Task[T]] = []

    def start() -> None:
        task = loop.create_task(coro, context=context)
        task_box.append(task)

        def finish(t: asyncio.Task[T]) -> None:
            if t.cancelled():
                if done.cancel():  # and notify, or `wait()` sleeps out its whole timeout
                    done.set_running_or_notify_cancel()
            elif (exc := t.exception()) is not None:
                done.set_exception(exc)
            else:
                done.set_result(t.result())

        task.add_done_callback(finish)

    loop.call_soon_threadsafe(start)
    try:
        return done.result(timeout)
    except BaseException:
        # Timed out or interrupted: stop the coroutine instead of leaving it running, and
        # wait (briefly) until it has stopped, so whatever it was iterating can be closed.
        loop.call_soon_threadsafe(lambda: [t.cancel() for t in task_box])
        concurrent.futures.wait([done], timeout=CANCEL_GRACE)
        raise


async def await_on_bridge(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro` on the bridge loop from any event loop.

    For resources bound to the bridge loop (a client session opened there and
    shared by sync and async callers); cancelling the caller cancels it there.
    """
    import asyncio

    loop = _background_loop()
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        return await coro
    future = asyncio.run_coroutine_threadsafe(coro, loop)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        future.cancel()
        raise


def submit_in_thread(func: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
    """Start a blocking callable in the tool pool, carrying the caller's contextvars."""
    context = contextvars.copy_context()
    return tool_executor().submit(context.run, func, *args)


async def run_in_thread(func: Callable[..., T], *args: Any) -> T:
    """Await a blocking callable run in the tool pool (contextvars included)."""
    import asyncio

    return await asyncio.wrap_future(submit_in_thread(func, *args))


def sync_iterate(agen: AsyncIterator[T], *, deadline: float | None = None) -> Iterator[T]:
    """Drive an async iterator from sync code, one item at a time, on the bridge loop.

    Closing the returned generator (a WSGI client going away) closes `agen` too.
    With `deadline` (a `time.monotonic()` value), waiting past it raises TimeoutError.
    """
    try:
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                yield run_coroutine_sync(_anext(agen), timeout=timeout)
            except StopAsyncIteration:
                return
    finally:
        aclose = getattr(agen, "aclose", None)
        if aclose is not None:
            run_coroutine_sync(aclose())


async def _anext(agen: AsyncIterator[T]) -> T:
    return await anext(agen)
