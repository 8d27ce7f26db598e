"""The terminal REPL of the debugger: show the pending step, read a command, decide.

Commands: `c` continue, `s [result]` skip the tool (the model reads the
result), `e {json}` edit the tool's arguments, `q` stop the run, `?` help.
Uses `rich` for the display when it is installed, plain text otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from .steps import Continue, Decision, Edit, ModelStep, Skip, Step, Stop, ToolStep

__all__ = ["TerminalDebugger"]

HELP = (
    "c = continue   s [result] = skip the tool (result given to the model)   "
    "e {json} = edit the arguments   q = stop the run"
)


class TerminalDebugger:
    """A handler for `Debugger` that asks on the terminal."""

    def __init__(
        self,
        *,
        read: Callable[[str], str] | None = None,
        out: TextIO | None = None,
        use_rich: bool | None = None,
    ) -> None:
        self.read = read or input
        self.out = out or sys.stdout
        self._console: Any = None
        if use_rich is not False:
            try:
                from rich.console import Console
            except ImportError:  # plain text then
                pass
            else:
                self._console = Console(file=self.out, highlight=False)

    def __call__(self, step: Step) -> Decision:
        self._show(step)
        while True:
            try:
                line = self.read("debug> ").strip()
            except EOFError:
                return Stop("the terminal closed")
            decision = self._parse(line, step)
            if decision is not None:
                return decision

    def _show(self, step: Step) -> None:
        if isinstance(step, ToolStep):
            title = f"paused before tool call {step.index}: {step.name}"
            body = json.dumps(dict(step.arguments), indent=2, ensure_ascii=False, default=str)
        else:
            title = f"paused before model call {step.index}"
            body = _model_body(step)
        if self._console is not None:
            from rich.panel import Panel

            self._console.print(Panel(body, title=title, expand=False))
            self._console.print(HELP if isinstance(step, ToolStep) else "c = continue   q = stop")
        else:
            print(f"== {title} ==\n{body}", file=self.out)
            print(HELP if isinstance(step, ToolStep) else "c = continue   q = stop", file=self.out)
        self.out.flush()

    def _say(self, text: str) -> None:
        print(text, file=self.out)
        self.out.flush()

    def _parse(self, line: str, step: Step) -> Decision | None:
        command, _, rest = line.partition(" ")
        command = command.lower()
        if command in {"c", "continue", ""}:
            return Continue()
        if command in {"q", "quit", "stop"}:
            return Stop(rest or "stopped in the debugger")
        if isinstance(step, ModelStep) or command not in {"s", "skip", "e", "edit"}:
            self._say(
                f"Unknown command {line!r}. " + ("c or q" if isinstance(step, ModelStep) else HELP)
            )
            return None
        if command in {"s", "skip"}:
            return Skip(_value(rest) if rest else "skipped by the debugger")
        try:
            arguments = json.loads(rest)
        except ValueError as exc:
            self._say(f"Edit needs the arguments as a JSON object: {exc}")
            return None
        if not isinstance(arguments, dict):
            self._say('Edit needs the arguments as a JSON object, like e {"city": "Oslo"}.')
            return None
        return Edit(arguments)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _model_body(step: ModelStep) -> str:
    lines = []
    for message in step.request.messages[-6:]:
        content = message.content or ""
        calls = ", ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
        lines.append(f"{message.role}: {content[:300]}" + (f" -> {calls}" if calls else ""))
    tools = [str(t.get("function", t).get("name", "?")) for t in step.request.tools]
    lines.append(f"tools: {', '.join(tools) or '(none)'}")
    return "\n".join(lines)
