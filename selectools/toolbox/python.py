"""Run a Python snippet, only inside the sandbox (`selectools.sandbox.SubprocessSandbox`).

The model writes code; it runs in a fresh process with CPU, memory, output
and wall-time limits, an empty environment, no network, no new processes and
no files outside its private working folder (standard library only). What it
printed and the value of its last expression come back; an error, a crash or
a limit comes back as a tool error the model can read and fix.
"""

from __future__ import annotations

from typing import Any

from ..sandbox import SandboxLimits, SandboxPolicy, SubprocessSandbox
from ..tools.tool import Tool, method_tool
from ..tools.toolkit import RefusedError, Toolkit

__all__ = ["PythonToolkit"]

MAX_CODE_CHARS = 20_000


class PythonToolkit(Toolkit):
    """`run_python` in a `SubprocessSandbox` (pass your own to change limits or policy).

    Args:
        sandbox: the sandbox to run in (default: 5 s CPU, 10 s wall, 512 MiB, no network).
        name_prefix: put before the tool name.
    """

    name = "python"

    def __init__(self, sandbox: SubprocessSandbox | None = None, *, name_prefix: str = "") -> None:
        self.sandbox = sandbox or SubprocessSandbox(SandboxLimits(), SandboxPolicy())
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        made = method_tool(self.run_python, prefix=self.name_prefix)
        return [made]

    def close(self) -> None:
        """Nothing to release: each run has its own process."""

    def run_python(self, code: str) -> dict[str, Any]:
        """Run Python code (standard library only, no network, no files) and return its output.

        The value of the last line, if it is an expression, is returned too.

        Args:
            code: the Python source to run.
        """
        if len(code) > MAX_CODE_CHARS:
            raise RefusedError(f"The code is over {MAX_CODE_CHARS} characters; shorten it.")
        result = self.sandbox.run_code(code)
        answer: dict[str, Any] = {"stdout": result.stdout, "value": result.value}
        if result.stderr:
            answer["stderr"] = result.stderr
        if result.truncated:
            answer["truncated"] = "The output was cut; print less."
        return answer
