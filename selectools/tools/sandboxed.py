"""Sandboxed tools: `@tool(sandbox=True)` runs each call in a fresh, limited process.

The child process imports the tool's function by module and name (a
decorated function's module attribute is its `Tool`, so the child unwraps it)
and calls it with the model's arguments; the result comes back as JSON. A
call that crashes, loops or allocates past the limits becomes a tool error
(`SandboxLimitError`, `SandboxCrashError`, `SandboxCodeError`) the model
reads, and the worker keeps serving. See `selectools.sandbox` for the limits.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ToolDefinitionError
from ..results import ToolCallRecord
from .calling import ToolInvocation
from .tool import Tool

if TYPE_CHECKING:
    from ..sandbox import SubprocessSandbox

__all__ = ["RunInSandbox", "call_by_name", "run_sandboxed", "run_sandboxed_sync"]


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


class RunInSandbox:
    """A tool policy: run the named tools (or every tool) in `sandbox`, as `@tool(sandbox=)`.

    For tools you did not write: `Agent(tools, policies=[RunInSandbox(tools=["convert"])])`.
    A tool that cannot run in a sandbox (a closure, an async function, a
    RunContext parameter) is refused with a message the model reads.
    """

    def __init__(
        self, sandbox: SubprocessSandbox | None = None, *, tools: Iterable[str] | None = None
    ) -> None:
        from ..sandbox import SubprocessSandbox

        self.sandbox = sandbox if sandbox is not None else SubprocessSandbox()
        self.tools = frozenset(tools) if tools is not None else None

    def before_tool(self, invocation: ToolInvocation) -> ToolInvocation | ToolCallRecord | None:
        if invocation.tool.sandbox is not None:
            return None
        if self.tools is not None and invocation.name not in self.tools:
            return None
        try:
            boxed = dataclasses.replace(invocation.tool, sandbox=self.sandbox)
        except ToolDefinitionError as exc:
            return invocation.refuse(str(exc), error_type="not_sandboxable")
        return dataclasses.replace(invocation, tool=boxed)
