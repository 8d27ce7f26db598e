"""The README's examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

README = (Path(__file__).parents[1] / "README.md").read_text()


def python_block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


def test_core_example_runs_against_an_openai_compatible_server(
    openai_server: FakeOpenAIServer,
) -> None:
    """`OPENAI_BASE_URL` points the example's OpenAIProvider at the local fake server."""
    openai_server.add(
        FakeReply(tool_calls=[("get_order", {"order_id": 1001})]),
        FakeReply(text="Order 1001 has shipped."),
    )
    code = python_block_after("## The core in ten lines")
    env = {"OPENAI_BASE_URL": openai_server.base_url, "OPENAI_API_KEY": "sk-test", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("Order 1001 has shipped. 36 ")
    tool_result = openai_server.requests[1]["messages"][-1]
    assert tool_result["content"] == '{"order_id": 1001, "status": "shipped"}'


def test_test_command_is_what_ci_runs() -> None:
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in README
    assert "<!-- test-command -->" in ci
