"""Tools: typed functions the model may call, how they are called, and the Toolkit contract.

- `tool.py`: `@tool`, `Tool`, `ToolSet` (schemas from type hints, validation)
- `schema.py`: JSON Schema from a signature (public for adapters and plugins)
- `calling.py`: running the model's calls through policies, timeouts and errors;
  `call_tool` / `acall_tool` give one call the same guarantees outside a run
- `toolkit.py`: the contract every connector implements, and its error family
- `streaming.py`: generator tools, their progress chunks and the result the model reads
- `loading.py`: tools from modules, files and folders; hot reload (development)
- `compose.py`: one tool from a pipeline of tools
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from .calling import ToolInvocation, acall_tool, call_tool
from .schema import FunctionSchema, clean_schema, describe_function
from .tool import Tool, ToolSet, ToolSnapshot, format_tool_result, method_tool, tool
from .toolkit import RefusedError, Toolkit, ToolkitError, UpstreamError

if TYPE_CHECKING:
    from .compose import ComposedTool, Step, compose, step
    from .loading import ToolLoader, ToolLoadError, ToolWatcher, load_tools, tools_in_module

# Composition and file loading load with their first use (`import selectools` stays lean).
_LAZY = {
    "ComposedTool": ".compose",
    "Step": ".compose",
    "compose": ".compose",
    "step": ".compose",
    "ToolLoader": ".loading",
    "ToolLoadError": ".loading",
    "ToolWatcher": ".loading",
    "load_tools": ".loading",
    "tools_in_module": ".loading",
}

if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)


__all__ = [
    "ComposedTool",
    "FunctionSchema",
    "RefusedError",
    "Step",
    "Tool",
    "ToolInvocation",
    "ToolLoadError",
    "ToolLoader",
    "ToolWatcher",
    "ToolSet",
    "ToolSnapshot",
    "Toolkit",
    "ToolkitError",
    "UpstreamError",
    "acall_tool",
    "call_tool",
    "clean_schema",
    "compose",
    "describe_function",
    "format_tool_result",
    "load_tools",
    "method_tool",
    "step",
    "tool",
    "tools_in_module",
]
