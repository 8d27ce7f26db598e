"""Functions the sandbox tests run in a child process (importable by name, as `call` needs)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def add(a: int, b: int) -> dict[str, int]:
    print("adding")  # goes to the child's stdout, not into the result
    return {"sum": a + b}


def environment() -> dict[str, str]:
    return dict(os.environ)


def fail(message: str) -> None:
    raise LookupError(message)


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def spin() -> None:
    while True:
        pass


def sleep_after_writing_pid(path: str) -> None:
    Path(path).write_text(str(os.getpid()))
    time.sleep(60)
