"""Several spawned processes doing the same thing at the same instant, round after round.

What `gunicorn -w N` or `uvicorn --workers N` does to whatever its workers
create at start (tables, data folders). `start` must be picklable: a module-level
function, or a `functools.partial` of one.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any


def _worker(
    start: Callable[[Any], object], rounds: Sequence[Any], barrier: Any, errors: Any
) -> None:
    for item in rounds:  # every worker starts each round together
        barrier.wait(60)
        try:
            start(item)
        except Exception as exc:
            errors.put(f"{type(exc).__name__}: {exc}")


def start_at_once(
    start: Callable[[Any], object], rounds: Sequence[Any], *, workers: int, timeout: float = 180
) -> list[str]:
    """Run `start(item)` in `workers` processes at once for each item; the errors they raised."""
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    barrier = context.Barrier(workers)
    processes = [
        context.Process(target=_worker, args=(start, rounds, barrier, errors))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout)
        assert process.exitcode == 0
    found = []
    while not errors.empty():
        found.append(errors.get())
    return found
