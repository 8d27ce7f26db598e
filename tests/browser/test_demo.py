"""The demos as a new user starts them: they print the URL, key and playground link, which works."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import OfflinePage

EXAMPLES = Path(__file__).parents[2] / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["fastapi_app", "flask_app"])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SELECTOOLS_API_KEY")
    }
    env.update(
        PORT=str(free_port()),
        SELECTOOLS_DEMO_DIR=str(tmp_path / "demo"),
        PYTHONPATH=os.pathsep.join(sys.path),
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / f"{request.param}.py")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = "".join(process.stdout.readline() for _ in range(3))
        yield request.param, printed
    finally:
        process.terminate()
        process.wait(10)


def test_the_demo_prints_a_working_playground_link(
    demo: tuple[str, str], offline: OfflinePage
) -> None:
    name, printed = demo
    assert "API key:    demo-key" in printed
    link = re.search(r"Playground: (\S+)", printed)
    assert link, printed
    page = offline.page
    for _ in range(100):  # the server prints before it listens: retry the first load
        try:
            page.goto(link.group(1))
            break
        except Exception:
            page.wait_for_timeout(100)
    page.fill("#input", "Where is order 1002?")
    page.click("#send")
    turn = page.locator(".turn.agent").last
    turn.locator(".usage").wait_for()
    assert "run_query" in turn.locator(".card.tool").inner_text()
    assert "Alan Turing" in turn.locator(".answer").inner_text()
    assert offline.blocked == []
    if name == "flask_app":
        offline.screenshot("demo-flask-playground")
