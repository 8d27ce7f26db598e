"""PythonToolkit: snippets run only inside the sandbox; failures reach the model."""

from __future__ import annotations

import pytest

from selectools import Agent, RefusedError, ScriptedProvider, call
from selectools.sandbox import SandboxLimits, SubprocessSandbox
from selectools.toolbox import PythonToolkit


@pytest.fixture
def kit() -> PythonToolkit:
    return PythonToolkit(SubprocessSandbox(SandboxLimits(cpu_seconds=1, wall_seconds=5)))


def test_a_snippet_runs_and_returns_output_and_value(kit: PythonToolkit) -> None:
    answer = kit.run_python(code="import statistics\nprint('mean')\nstatistics.mean([1, 2, 6])")
    assert answer == {"stdout": "mean\n", "value": "3"}


@pytest.mark.parametrize(
    ("code", "error_type", "fragment"),
    [
        ("while True: pass", "sandbox_limit_error", "CPU time"),
        ("x = bytearray(2 * 1024 ** 3)", "sandbox_limit_error", "MiB of memory"),
        ("import os\nos.environ['HOME']", "sandbox_code_error", "KeyError"),
        ("open('/etc/passwd').read()", "sandbox_code_error", "not allowed in the sandbox"),
        (
            "import socket\nsocket.create_connection(('127.0.0.1', 5432))",
            "sandbox_code_error",
            "socket",
        ),
        ("import os\nos.abort()", "sandbox_crash_error", "signal 6"),
        ("1/0", "sandbox_code_error", "ZeroDivisionError"),
    ],
)
def test_failures_and_limits_are_tool_errors_the_model_reads(
    kit: PythonToolkit, code: str, error_type: str, fragment: str
) -> None:
    agent = Agent([kit], ScriptedProvider([call("run_python", code=code), "ok"]))
    [record] = agent.run("go").tool_calls
    assert record.error_type == error_type
    assert fragment in (record.error or "")


def test_oversized_code_is_refused(kit: PythonToolkit) -> None:
    with pytest.raises(RefusedError, match="over 20000 characters"):
        kit.run_python(code="x = 1\n" * 5000)
