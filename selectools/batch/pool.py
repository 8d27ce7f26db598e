"""Bounded concurrency over a list, answers in input order: the one engine behind every batch.

`Agent.abatch`, the HTTP `/batch` route and background jobs all run their
items through `map_ordered`: a fixed number of workers pull the next index,
so memory holds the results and `concurrency` running items, never one task
per input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

__all__ = ["map_ordered"]

T = TypeVar("T")
R = TypeVar("R")


async def map_ordered(
    items: Sequence[T],
    run_one: Callable[[int, T], Awaitable[R]],
    *,
    concurrency: int,
    skip: Callable[[int], R | None] | None = None,
) -> list[R]:
    """`run_one(index, item)` for each item, at most `concurrency` at once, results in order.

    `run_one` decides what a failure becomes (it should not raise: a raised
    exception cancels the other workers and propagates). `skip(index)` may
    return an outcome known already (a resumed batch) so the item never runs.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}.")
    results: list[R | None] = [None] * len(items)
    todo = []
    for index in range(len(items)):
        known = skip(index) if skip is not None else None
        if known is None:
            todo.append(index)
        else:
            results[index] = known
    queue = iter(todo)

    async def worker() -> None:
        for index in queue:  # one shared iterator: each index is taken once
            results[index] = await run_one(index, items[index])

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(todo))):
            group.create_task(worker())
    return results  # type: ignore[return-value]  # every slot is filled
