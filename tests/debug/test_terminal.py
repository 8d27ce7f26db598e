"""The terminal debugger driven through a pseudo-terminal against a real subprocess.

The child is a script calling `agent.debug(...)` with the default handler (the
REPL, using rich when installed); the test types commands as a person would.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = '''
from selectools import Agent, ScriptedProvider, call, tool

SENT = []


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    SENT.append(to)
    return "sent to " + to


steps = [
    call("send_email", to="everyone@example.com", subject="hi"),
    call("send_email", to="boss@example.com", subject="report"),
    "Both handled.",
]
agent = Agent([send_email], ScriptedProvider(steps))
try:
    result = agent.debug("Send the mails")
except Exception as exc:
    print("STOPPED", type(exc).__name__, exc, SENT)
else:
    print("RESULT", result.text, [r.output for r in result.tool_calls], SENT)
'''

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    def __init__(self, script: Path, plain: bool) -> None:
        self.master, slave = pty.openpty()
        env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
        args = [sys.executable, str(script)]
        if plain:  # no rich: the plain input() fallback
            args = [
                sys.executable,
                "-c",
                f"import sys; sys.modules['rich'] = None; exec(open({str(script)!r}).read())",
            ]
        self.child = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"waited for {text!r}; the terminal shows:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"the child ended before {text!r}:\n{self.seen}")
                self.seen += ANSI.sub("", chunk.decode(errors="replace")).replace("\r", "")
        shown, _, self.seen = self.seen.partition(text)
        return shown + text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def close(self) -> int:
        try:
            return self.child.wait(30)
        finally:
            os.close(self.master)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "debug_me.py"
    path.write_text(SCRIPT)
    return path


@pytest.mark.parametrize("plain", [False, True], ids=["rich", "plain"])
def test_continue_edit_skip_in_a_terminal(script: Path, plain: bool) -> None:
    term = Terminal(script, plain)
    shown = term.expect("debug> ")
    assert "paused before model call 1" in shown
    assert "user: Send the mails" in shown
    term.type("c")
    shown = term.expect("debug> ")
    assert "paused before tool call 1: send_email" in shown
    assert '"to": "everyone@example.com"' in shown
    term.type('e {"to": "team@example.com", "subject": "hi"}')
    assert "paused before model call 2" in term.expect("debug> ")
    term.type("c")
    assert '"to": "boss@example.com"' in term.expect("debug> ")
    term.type("nonsense")
    assert "Unknown command 'nonsense'" in term.expect("debug> ")
    term.type('s "queued for tomorrow"')
    assert "paused before model call 3" in term.expect("debug> ")
    term.type("c")
    out = term.expect("RESULT") + term.expect("]\n")
    assert "RESULT Both handled." in out
    assert "['sent to team@example.com', 'queued for tomorrow']" in out
    assert out.rstrip().endswith("['team@example.com']")  # only the edited call ran
    assert term.close() == 0


def test_stop_in_a_terminal(script: Path) -> None:
    term = Terminal(script, plain=False)
    term.expect("debug> ")
    term.type("c")
    term.expect("debug> ")
    term.type("q not this one")
    out = term.expect("STOPPED") + term.expect("[]\n")
    assert "STOPPED DebugStopped" in out
    assert "before tool call 1 (send_email): not this one" in out
    assert term.close() == 0
