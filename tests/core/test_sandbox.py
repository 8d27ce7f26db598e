"""SubprocessSandbox: limits, an empty environment, refused actions, crashes as tool errors."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from selectools import ToolkitError
from selectools.sandbox import (
    SandboxCodeError,
    SandboxCrashError,
    SandboxError,
    SandboxLimitError,
    SandboxLimits,
    SandboxPolicy,
    SubprocessSandbox,
)
from tests.fakes import sandboxed

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the sandbox is POSIX only")

FAST = SandboxLimits(cpu_seconds=1, wall_seconds=5, memory_bytes=256 * 1024 * 1024)


@pytest.fixture
def sandbox() -> SubprocessSandbox:
    return SubprocessSandbox(FAST)


def test_a_snippet_returns_its_output_and_final_value(sandbox: SubprocessSandbox) -> None:
    result = sandbox.run_code("import math\nprint('radius', 2)\nmath.pi * 2 ** 2")
    assert result.stdout == "radius 2\n"
    assert result.value == repr(3.141592653589793 * 4)
    assert not result.truncated


def test_errors_are_toolkit_errors_the_model_can_read() -> None:
    assert issubclass(SandboxError, ToolkitError)


def test_memory_over_the_limit_is_stopped(sandbox: SubprocessSandbox) -> None:
    with pytest.raises(SandboxLimitError, match="more than 256 MiB of memory"):
        sandbox.run_code("block = bytearray(2 * 1024 ** 3)")
    with pytest.raises(SandboxLimitError, match="memory"):
        sandbox.call(sandboxed.allocate, 2048)


def test_cpu_time_over_the_limit_is_stopped(sandbox: SubprocessSandbox) -> None:
    with pytest.raises(SandboxLimitError, match="more than 1 s of CPU time"):
        sandbox.run_code("while True:\n    pass")
    with pytest.raises(SandboxLimitError, match="CPU time"):
        sandbox.call(sandboxed.spin)


def test_wall_time_over_the_limit_is_stopped() -> None:
    sandbox = SubprocessSandbox(SandboxLimits(wall_seconds=0.5))
    with pytest.raises(SandboxLimitError, match=r"longer than 0\.5 s \(wall clock\)"):
        sandbox.run_code("import time\ntime.sleep(30)")


def test_the_environment_is_empty_so_secrets_stay_out(
    sandbox: SubprocessSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    seen = sandbox.call(sandboxed.environment)
    assert "OPENAI_API_KEY" not in seen
    assert "sk-secret" not in sandbox.run_code("import os\nprint(os.environ)").stdout
    chosen = SubprocessSandbox(FAST, env={"ONLY": "this"})
    assert chosen.call(sandboxed.environment).get("ONLY") == "this"


def test_a_crash_is_a_tool_error_and_the_next_run_works(sandbox: SubprocessSandbox) -> None:
    with pytest.raises(SandboxCrashError, match="signal 6"):
        sandbox.run_code("import os\nos.abort()")
    assert sandbox.run_code("40 + 2").value == "42"


def test_the_code_raising_says_what_it_raised(sandbox: SubprocessSandbox) -> None:
    with pytest.raises(SandboxCodeError, match="The code raised LookupError: no such row") as info:
        sandbox.call(sandboxed.fail, "no such row")
    assert info.value.exception_type == "LookupError"
    assert "fail" in info.value.traceback


def test_output_is_capped_while_it_is_read() -> None:
    sandbox = SubprocessSandbox(SandboxLimits(output_bytes=1000))
    result = sandbox.run_code("print('x' * 5_000_000)")
    assert result.truncated
    assert len(result.stdout) == 1000


@pytest.mark.parametrize(
    ("code", "refused"),
    [
        ("open('/etc/passwd').read()", "opening '/etc/passwd'"),
        (f"open({str(Path(__file__))!r}).read()", "is not allowed"),
        ("import os\nos.listdir('/')", "os.listdir on '/'"),
        ("import os\nos.system('true')", "os.system"),
        ("import subprocess\nsubprocess.run(['true'])", "subprocess.Popen"),
        ("import ctypes", "ctypes"),
        ("import os, signal\nos.kill(os.getppid(), signal.SIGTERM)", "os.kill"),
        ("open('/tmp/escape.txt', 'w')", "opening '/tmp/escape.txt'"),
    ],
)
def test_the_audit_hook_refuses(sandbox: SubprocessSandbox, code: str, refused: str) -> None:
    with pytest.raises(SandboxCodeError, match="PermissionError") as info:
        sandbox.run_code(code)
    assert refused in str(info.value)


def test_no_network_even_to_a_local_listener(sandbox: SubprocessSandbox) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.setblocking(False)
        port = server.getsockname()[1]
        code = f"import socket\ns = socket.socket()\ns.connect(('127.0.0.1', {port}))"
        with pytest.raises(SandboxCodeError, match=r"socket\.connect is not allowed"):
            sandbox.run_code(code)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    allowed = SubprocessSandbox(FAST, policy=SandboxPolicy(network=True))
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        allowed.run_code(f"import socket\nsocket.create_connection(('127.0.0.1', {port})).close()")


def test_the_working_folder_is_private_and_writable(sandbox: SubprocessSandbox) -> None:
    result = sandbox.run_code(
        "import os\nopen('notes.txt', 'w').write('kept')\n"
        "print(open('notes.txt').read())\nos.getcwd()"
    )
    assert result.stdout == "kept\n"
    workdir = eval(result.value)
    assert not os.path.exists(workdir)  # removed after the run


def test_call_runs_an_importable_function_and_refuses_what_cannot_travel(
    sandbox: SubprocessSandbox,
) -> None:
    assert sandbox.call(sandboxed.add, 2, b=3) == {"sum": 5}
    with pytest.raises(SandboxError, match="importable by name"):
        sandbox.call(lambda: 1)


async def test_async_calls_run_and_cancelling_kills_the_child(
    sandbox: SubprocessSandbox, tmp_path: Path
) -> None:
    assert (await sandbox.arun_code("6 * 7")).value == "42"
    assert await sandbox.acall(sandboxed.add, 1, 1) == {"sum": 2}
    slow = SubprocessSandbox(
        SandboxLimits(wall_seconds=60), policy=SandboxPolicy(writable=[str(tmp_path)])
    )
    pid_file = tmp_path / "pid"
    task = asyncio.create_task(slow.acall(sandboxed.sleep_after_writing_pid, str(pid_file)))
    deadline = time.monotonic() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the child never started"
        await asyncio.sleep(0.02)
    pid = int(pid_file.read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the cancelled child is still running"
        await asyncio.sleep(0.02)
