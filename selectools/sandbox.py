"""Run code in a separate, limited process: a crash or a limit becomes a tool error.

`SubprocessSandbox` starts a fresh Python process per call (`python -I`, an
empty environment, a private temporary working folder), which sets its own
resource limits before anything requested runs: CPU seconds (RLIMIT_CPU),
address space (RLIMIT_AS), bytes per written file (RLIMIT_FSIZE), open files,
no core dumps; the parent enforces a wall-clock timeout and caps the output it
keeps. A Python audit hook in the child refuses network access, new processes,
`ctypes` and signals to other processes, and (for snippets) files outside the
working folder and the standard library.

- `run_code(code)`: a snippet, e.g. written by a model; stdout, stderr and the
  value of a final expression come back (`selectools.toolbox.python` uses it).
- `call(function, *args, **kwargs)`: one of your own functions (importable by
  name, arguments picklable), its JSON-able result back. This is the seam for
  sandboxed tools: the tool runs in the child; the worker survives whatever it does.

What the child sends back is JSON, never unpickled. Each failure is a
`ToolkitError` the model reads: `SandboxLimitError` (time, memory, output),
`SandboxCrashError` (the process died), `SandboxCodeError` (the code raised).

Limits of this design, said plainly: it is process isolation with resource
limits and an audit hook, not a kernel-level jail. The audit hook is defence
in depth (PEP 578 says hooks are not a security boundary); for hostile code at
scale, run the sandbox inside a container or gVisor as well. POSIX only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import pickle
import selectors
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .bridge import run_in_thread
from .tools.toolkit import ToolkitError

__all__ = [
    "SandboxCodeError",
    "SandboxCrashError",
    "SandboxError",
    "SandboxLimitError",
    "SandboxLimits",
    "SandboxPolicy",
    "SandboxResult",
    "SubprocessSandbox",
]

_CHILD = Path(__file__).with_name("_sandbox_child.py")
_READ_CHUNK = 65536


class SandboxError(ToolkitError):
    """Code run in the sandbox did not produce a result."""


class SandboxLimitError(SandboxError):
    """The code ran out of CPU time, memory, wall time or output room, and was stopped."""


class SandboxCrashError(SandboxError):
    """The sandbox process died without an answer (a signal, a crash of the interpreter)."""


class SandboxCodeError(SandboxError):
    """The code raised; the message carries its exception type and text."""

    def __init__(self, message: str, *, exception_type: str, traceback: str = "") -> None:
        super().__init__(message)
        self.exception_type = exception_type
        self.traceback = traceback


@dataclass(frozen=True)
class SandboxLimits:
    """What one run may use. Exceeding any of them stops it with `SandboxLimitError`."""

    cpu_seconds: int = 5
    wall_seconds: float = 10.0
    memory_bytes: int = 512 * 1024 * 1024
    output_bytes: int = 64 * 1024
    file_bytes: int = 1024 * 1024
    open_files: int = 64


@dataclass(frozen=True)
class SandboxPolicy:
    """What the child's audit hook allows.

    `restrict_files`: reads only under `readable` (plus the standard library
    and the working folder), writes only in the working folder and `writable`.
    """

    network: bool = False
    subprocess: bool = False
    restrict_files: bool = True
    readable: Sequence[str] = ()
    writable: Sequence[str] = ()


@dataclass(frozen=True)
class SandboxResult:
    """What a finished run gave: its output (capped) and a final expression's repr."""

    stdout: str
    stderr: str
    value: Any = None
    truncated: bool = False
    duration_ms: float = 0.0


@dataclass
class SubprocessSandbox:
    """A fresh, limited Python process per call; reusable and safe to share between threads.

    Args:
        limits: CPU, wall time, memory, output, file size and open-file limits.
        policy: what the child's audit hook allows (see `SandboxPolicy`).
        env: the child's whole environment (default: empty, so no secrets reach it).
        python: the interpreter to run (default: this one).
    """

    limits: SandboxLimits = field(default_factory=SandboxLimits)
    policy: SandboxPolicy = field(default_factory=SandboxPolicy)
    env: Mapping[str, str] = field(default_factory=dict)
    python: str = sys.executable

    def run_code(self, code: str, *, stdin: str = "") -> SandboxResult:
        """Run a Python snippet; raises a `SandboxError` unless it finished cleanly."""
        return self._run({"mode": "code", "code": code, "stdin": stdin})

    async def arun_code(self, code: str, *, stdin: str = "") -> SandboxResult:
        """`run_code` without blocking the event loop; cancelling kills the child."""
        return await self._arun({"mode": "code", "code": code, "stdin": stdin})

    def call(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call `function(*args, **kwargs)` in the child and return its (JSON-able) result."""
        return self._run(_call_request(function, args, kwargs)).value

    async def acall(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """`call` without blocking the event loop; cancelling kills the child."""
        return (await self._arun(_call_request(function, args, kwargs))).value

    async def _arun(self, request: dict[str, Any]) -> SandboxResult:
        cancel = _CancelFlag()
        try:
            return await run_in_thread(self._run, request, cancel)
        except asyncio.CancelledError:
            cancel.cancel()
            raise

    # -- one run ----------------------------------------------------------------

    def _run(self, request: dict[str, Any], cancel: _CancelFlag | None = None) -> SandboxResult:
        limits, policy = self.limits, self.policy
        with tempfile.TemporaryDirectory(prefix="selectools-sandbox-") as workdir:
            request = {
                **request,
                "limits": asdict(limits),
                "policy": {
                    "network": policy.network,
                    "subprocess": policy.subprocess,
                    "restrict_files": policy.restrict_files,
                    # a call imports its function's module: what sys.path holds is readable
                    "readable": [
                        *_stdlib_paths(),
                        *policy.readable,
                        *request.get("sys_path", ()),
                        "/dev/null",
                    ],
                    "writable": [workdir, *policy.writable],
                },
            }
            read_answer, write_answer = os.pipe()
            started = time.perf_counter()
            try:
                process = subprocess.Popen(
                    [self.python, "-I", "-S", str(_CHILD), str(write_answer)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=dict(self.env),
                    cwd=workdir,
                    pass_fds=(write_answer,),
                    start_new_session=True,  # its own process group: a timeout kills it all
                    close_fds=True,
                )
            finally:
                os.close(write_answer)
            try:
                outcome = _Collector(process, read_answer, limits, cancel).collect(
                    json.dumps(request).encode()
                )
            finally:
                os.close(read_answer)
            outcome.duration_ms = (time.perf_counter() - started) * 1000
            return outcome.result(limits)


# -- cancellation from async callers ------------------------------------------------


class _CancelFlag:
    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []
        self.cancelled = False

    def on_cancel(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)
        if self.cancelled:
            callback()

    def cancel(self) -> None:
        self.cancelled = True
        for callback in self._callbacks:
            with contextlib.suppress(Exception):
                callback()


def _call_request(
    function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    try:
        blob = base64.b64encode(pickle.dumps((function, args, kwargs))).decode()
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise SandboxError(
            f"Cannot send {getattr(function, '__qualname__', function)!r} to the sandbox "
            f"({exc}). Sandboxed functions must be importable by name (module level) and "
            f"their arguments picklable."
        ) from None
    return {"mode": "call", "call": blob, "sys_path": [p for p in sys.path if p]}


# -- the parent side of one run -----------------------------------------------------


@dataclass
class _Collector:
    """Feeds the request, reads output (capped) and the answer, enforces the wall time."""

    process: subprocess.Popen[bytes]
    answer_fd: int
    limits: SandboxLimits
    cancel: _CancelFlag | None
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    answer: bytearray = field(default_factory=bytearray)
    truncated: bool = False
    timed_out: bool = False
    killed: bool = False
    duration_ms: float = 0.0

    def collect(self, request: bytes) -> _Collector:
        process = self.process
        if self.cancel is not None:
            self.cancel.on_cancel(self.kill)
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            process.stdin.write(request)
            process.stdin.close()
        except BrokenPipeError:
            pass  # it died before reading: the exit status says why
        deadline = time.monotonic() + self.limits.wall_seconds
        answer_cap = max(self.limits.output_bytes, 1024 * 1024)
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ, self.stdout)
            selector.register(process.stderr, selectors.EVENT_READ, self.stderr)
            selector.register(self.answer_fd, selectors.EVENT_READ, self.answer)
            while selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    self.timed_out = True
                    self.kill()
                    break
                for key, _ in selector.select(min(left, 0.5)):
                    fd = key.fd
                    chunk = os.read(fd, _READ_CHUNK)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    sink: bytearray = key.data
                    cap = answer_cap if sink is self.answer else self.limits.output_bytes
                    room = cap - len(sink)
                    if room < len(chunk):
                        self.truncated = self.truncated or sink is not self.answer
                        chunk = chunk[: max(room, 0)]
                    sink.extend(chunk)
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()) + 1)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
        return self

    def kill(self) -> None:
        self.killed = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def result(self, limits: SandboxLimits) -> SandboxResult:
        stdout = self.stdout.decode("utf-8", "replace")
        stderr = self.stderr.decode("utf-8", "replace")
        code = self.process.returncode
        if self.cancel is not None and self.cancel.cancelled:
            raise SandboxError("The sandboxed run was cancelled.")
        if self.timed_out:
            raise SandboxLimitError(
                f"The code ran longer than {limits.wall_seconds:g} s (wall clock) and was "
                f"stopped. Make it faster or give it less work."
            )
        if code in (-signal.SIGXCPU, -signal.SIGKILL) and not self.answer:
            raise SandboxLimitError(
                f"The code used more than {limits.cpu_seconds} s of CPU time and was stopped. "
                f"Make it faster or give it less work."
            )
        try:
            answer = json.loads(bytes(self.answer)) if self.answer else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            detail = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            raise SandboxCrashError(
                f"The sandbox process ended without an answer ({detail})."
                + (f" Its last output: {stderr[-500:]}" if stderr.strip() else "")
            )
        if answer.get("ok"):
            return SandboxResult(
                stdout, stderr, answer.get("value"), self.truncated, self.duration_ms
            )
        if answer.get("kind") == "memory":
            raise SandboxLimitError(
                f"The code needed more than {limits.memory_bytes // (1024 * 1024)} MiB of memory "
                f"and was stopped. Work on less data at once."
            )
        kind = str(answer.get("type", "Exception"))
        message = str(answer.get("message", ""))
        raise SandboxCodeError(
            f"The code raised {kind}: {message}" if message else f"The code raised {kind}.",
            exception_type=kind,
            traceback=str(answer.get("traceback", "")),
        )


def _stdlib_paths() -> list[str]:
    paths = sysconfig.get_paths()
    found = {paths["stdlib"], paths["platstdlib"], os.path.dirname(os.__file__)}
    return sorted(p for p in found if p)
