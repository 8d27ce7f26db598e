"""Step-through debugging: pause before each model call and tool call, decide, go on.

`agent.debug("prompt")` runs once with a `Debugger`: before every model call
and every tool call it asks a handler what to do (continue, skip a tool with a
supplied result, edit its arguments, stop). The default handler is a small
terminal REPL (`rich` when installed, plain `input()` otherwise); pass
`handler=` for notebooks, playgrounds and tests. `dry_run=True` plans tool
calls without executing any.
"""

from __future__ import annotations

from .debugger import Debugger, DebugStopped, debug_run
from .steps import Continue, Decision, Edit, ModelStep, Skip, Step, Stop, ToolStep
from .terminal import TerminalDebugger

__all__ = [
    "Continue",
    "DebugStopped",
    "Debugger",
    "Decision",
    "Edit",
    "ModelStep",
    "Skip",
    "Step",
    "Stop",
    "TerminalDebugger",
    "ToolStep",
    "debug_run",
]
