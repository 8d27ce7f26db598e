"""The child side of `selectools.sandbox`: run as a script (`python -I this_file.py FD`).

Standard library only, and never imported by selectools: it reads one JSON
request from stdin, sets its own resource limits and audit hook before any
requested code runs, runs it, and writes one JSON answer to file descriptor FD.
Nothing in the answer is ever unpickled by the parent.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import io
import json
import os
import pickle
import resource
import sys
import traceback
from collections.abc import Callable
from typing import Any

_NETWORK_EVENTS = ("socket.connect", "socket.bind", "socket.getaddrinfo", "socket.sendto")
_PROCESS_EVENTS = (
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
)
_ALWAYS_DENIED = ("ctypes.", "os.kill", "os.killpg", "signal.pthread_kill", "sys.addaudithook")
_WRITE_EVENTS = {  # event -> positions of the paths it changes
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (0, 1),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "shutil.rmtree": (0,),
}
_READ_EVENTS = {"os.listdir": (0,), "os.scandir": (0,)}


def _limit(kind: int, value: int) -> None:
    with contextlib.suppress(ValueError, OSError):  # a lower hard limit already: keep it
        resource.setrlimit(kind, (value, value))


def _apply_limits(limits: dict[str, Any]) -> None:
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU, then SIGKILL
    _limit(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    _limit(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    _limit(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    _limit(resource.RLIMIT_CORE, 0)


def _audit_hook(policy: dict[str, Any]) -> Callable[[str, tuple[Any, ...]], None]:
    readable = tuple(os.path.realpath(p) for p in policy["readable"] if p)
    writable = tuple(os.path.realpath(p) for p in policy["writable"] if p)
    denied = list(_ALWAYS_DENIED)
    if not policy["network"]:
        denied.extend(_NETWORK_EVENTS)
    if not policy["subprocess"]:
        denied.extend(_PROCESS_EVENTS)
    check_files = policy["restrict_files"]

    def under(path: str, roots: tuple[str, ...]) -> bool:
        real = os.path.realpath(path)
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)

    def allowed(path: Any, writing: bool) -> bool:
        if isinstance(path, int) or path is None:
            return True  # an already open file descriptor
        path = os.fsdecode(path)
        return under(path, writable) if writing else under(path, readable + writable)

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event.startswith(tuple(denied)):
            raise PermissionError(f"{event} is not allowed in the sandbox")
        if not check_files:
            return
        if event == "open" and args:
            mode = args[1] if len(args) > 1 else None
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
                flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC)
            )
            if not allowed(args[0], writing):
                raise PermissionError(f"opening {args[0]!r} is not allowed in the sandbox")
            return
        positions = _WRITE_EVENTS.get(event)
        writing = positions is not None
        positions = positions or _READ_EVENTS.get(event)
        if positions is None:
            return
        for position in positions:
            if position < len(args) and not allowed(args[position], writing):
                target = args[position]
                raise PermissionError(f"{event} on {target!r} is not allowed in the sandbox")

    return hook


def _run_code(code: str) -> str | None:
    """Run a snippet; the value of a final expression comes back as its repr."""
    tree = ast.parse(code, "<snippet>", "exec")
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr):
        body = ast.Module(body=tree.body[:-1], type_ignores=[])
        exec(compile(body, "<snippet>", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), "<snippet>", "eval"), namespace)
        return None if value is None else repr(value)
    exec(compile(tree, "<snippet>", "exec"), namespace)
    return None


def _run_call(blob: str) -> Any:
    function, args, kwargs = pickle.loads(base64.b64decode(blob))
    return function(*args, **kwargs)


def main() -> None:
    result_fd = int(sys.argv[1])
    request = json.loads(sys.stdin.buffer.read())
    sys.stdin = io.StringIO(request.get("stdin", ""))
    if request.get("sys_path"):
        sys.path[:] = request["sys_path"]
    _apply_limits(request["limits"])
    answer: dict[str, Any]
    try:
        if request["mode"] == "call":
            function_blob = request["call"]
            sys.addaudithook(_audit_hook(request["policy"]))
            value = _run_call(function_blob)
            answer = {"ok": True, "value": value}
        else:
            sys.addaudithook(_audit_hook(request["policy"]))
            answer = {"ok": True, "value": _run_code(request["code"])}
    except MemoryError:
        answer = {"ok": False, "kind": "memory", "type": "MemoryError", "message": ""}
    except RecursionError as exc:
        answer = {"ok": False, "kind": "error", "type": "RecursionError", "message": str(exc)}
    except BaseException as exc:  # everything the code raised goes back as data
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        answer = {
            "ok": False,
            "kind": "error",
            "type": type(exc).__name__,
            "message": str(exc)[:2000],
            "traceback": "".join(lines[-8:])[-4000:],
        }
    try:
        text = json.dumps(answer, default=repr)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"ok": False, "kind": "result", "type": "TypeError", "message": str(exc)})
    sys.stdout.flush()
    sys.stderr.flush()
    with os.fdopen(result_fd, "w", encoding="utf-8") as out:
        out.write(text)


if __name__ == "__main__":
    main()
