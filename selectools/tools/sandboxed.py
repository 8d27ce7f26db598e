"""Sandboxed tools: `@tool(sandbox=True)` runs each call in a fresh, limited process.

The child process imports the tool's function by module and name (a
decorated function's module attribute is its `Tool`, so the child unwraps it)
and calls it with the model's arguments; the result comes back as JSON. A
call that crashes, loops or allocates past the limits becomes a tool error
(`SandboxLimitError`, `SandboxCrashError`, `SandboxCodeError`) the model
reads, and the worker keeps serving. See `selectools.sandbox` for the limits.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .tool import Tool

__all__ = ["call_by_name", "run_sandboxed", "run_sandboxed_sync"]


def call_by_name(module: str, qualname: str, arguments: Mapping[str, Any]) -> Any:
    """In the child: import the function by name and call it (a `Tool` is unwrapped)."""
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    function = target.function if isinstance(target, Tool) else target
    return function(**arguments)


def _where(tool: Tool) -> tuple[str, str]:
    function = tool.function
    return str(function.__module__), str(function.__qualname__)


def run_sandboxed_sync(tool: Tool, arguments: Mapping[str, Any]) -> Any:
    """Call `tool` in its sandbox from sync code; limits and crashes raise `SandboxError`s."""
    assert tool.sandbox is not None
    return tool.sandbox.call(call_by_name, *_where(tool), dict(arguments))


async def run_sandboxed(tool: Tool, arguments: Mapping[str, Any]) -> Any:
    """Async `run_sandboxed_sync`; cancelling (a timeout, say) kills the child."""
    assert tool.sandbox is not None
    return await tool.sandbox.acall(call_by_name, *_where(tool), dict(arguments))
