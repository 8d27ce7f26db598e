"""Sandboxed tools for the tests: module-level, so the child process imports them by name."""

from __future__ import annotations

import os

from selectools import tool
from selectools.sandbox import SandboxLimits, SubprocessSandbox

TIGHT = SubprocessSandbox(
    limits=SandboxLimits(cpu_seconds=2, wall_seconds=6, memory_bytes=256 * 1024 * 1024)
)


@tool(sandbox=TIGHT)
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool(sandbox=TIGHT)
def hog(megabytes: int) -> int:
    """Allocate memory."""
    return len(bytearray(megabytes * 1024 * 1024))


@tool(sandbox=TIGHT)
def spin() -> None:
    """Loop forever."""
    while True:
        pass


@tool(sandbox=TIGHT)
def environment() -> list[str]:
    """The names of the environment variables the tool sees."""
    return sorted(os.environ)


@tool(sandbox=TIGHT)
def crash() -> None:
    """Die without an answer."""
    os.abort()


@tool(sandbox=True)
def pid() -> int:
    """The process the tool runs in."""
    return os.getpid()


@tool
def plain_pid() -> int:
    """The process the tool runs in (not sandboxed by itself)."""
    return os.getpid()
