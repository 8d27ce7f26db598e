"""Docs from tools: every parameter's type, default and constraints; flags; docstring examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS_FILE = '''
from enum import Enum
from typing import Annotated, Literal

from pydantic import Field

from selectools import Agent, ScriptedProvider, tool


class Priority(Enum):
    LOW = "low"
    HIGH = "high"


@tool(writes=True)
def create_ticket(
    title: Annotated[str, Field(min_length=3, max_length=80)],
    priority: Priority = Priority.LOW,
    assignee: str | None = None,
    retries: Annotated[int, Field(ge=0, le=5)] = 2,
) -> str:
    """Open a ticket in the tracker.

    Args:
        title: what is wrong, in a few words.
        priority: how urgent it is.
        assignee: who should look at it (nobody by default).
        retries: how often to retry when the tracker is busy.

    Examples:
        >>> create_ticket("Printer on fire", priority=Priority.HIGH)
        'ticket 42 opened'
    """
    return "ticket 42 opened"


@tool
def search(query: str, limit: int = 10, mode: Literal["fast", "exact"] = "fast") -> list[str]:
    """Search the knowledge base.

    >>> search("vpn")
    ['How to set up the VPN']
    """
    return []


@tool
def ping() -> str:
    """Check the service | with a pipe."""
    return "pong"


agent = Agent([create_ticket, search, ping], ScriptedProvider(["x"]))
'''


@pytest.fixture
def tools_file(tmp_path: Path) -> Path:
    path = tmp_path / "helpdesk.py"
    path.write_text(TOOLS_FILE)
    return path


def test_json_describes_every_parameter(tools_file: Path) -> None:
    from selectools.docgen import describe_tool, load_tools_from

    tools = load_tools_from(f"{tools_file}:agent")
    assert [t.name for t in tools] == ["create_ticket", "ping", "search"]
    ticket = describe_tool(tools[0])
    assert ticket["writes"] is True
    assert ticket["requires_approval"] is False
    assert ticket["description"].startswith("Open a ticket in the tracker.")
    params = {p["name"]: p for p in ticket["parameters"]}
    assert params["title"]["required"] is True
    assert params["title"]["type"] == "string"
    assert params["title"]["constraints"] == {"minLength": 3, "maxLength": 80}
    assert params["title"]["description"] == "what is wrong, in a few words."
    assert params["priority"]["default"] == "low"
    assert params["priority"]["constraints"]["enum"] == ["low", "high"]
    assert params["assignee"]["required"] is False
    assert params["assignee"]["type"] == "string | null"
    assert params["retries"]["constraints"] == {"minimum": 0, "maximum": 5}
    assert params["retries"]["default"] == 2
    assert ticket["examples"] == [
        ">>> create_ticket(\"Printer on fire\", priority=Priority.HIGH)\n'ticket 42 opened'"
    ]
    search = describe_tool(tools[2])
    mode = next(p for p in search["parameters"] if p["name"] == "mode")
    assert mode["constraints"]["enum"] == ["fast", "exact"]
    assert search["examples"] == [">>> search(\"vpn\")\n['How to set up the VPN']"]


def test_markdown_page(tools_file: Path) -> None:
    from selectools.docgen import load_tools_from, to_markdown

    page = to_markdown(load_tools_from(str(tools_file)), title="Helpdesk tools")
    assert page.startswith("# Helpdesk tools\n\n3 tool(s).")
    assert "| [`create_ticket`](#create_ticket) | Open a ticket in the tracker. | yes |  |" in page
    assert "| [`ping`](#ping) | Check the service \\| with a pipe. |  |  |" in page
    assert "## create_ticket" in page
    assert "- writes: changes something outside the run" in page
    assert (
        "| `retries` | integer | no | `2` | minimum: `0`, maximum: `5` | "
        "how often to retry when the tracker is busy. |"
    ) in page
    assert '```python\n>>> search("vpn")' in page
    assert "## ping" in page
    assert "No parameters." in page


def test_python_m_docgen_writes_files(tools_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "tools.md"
    ran = subprocess.run(
        [sys.executable, "-m", "selectools.docgen", f"{tools_file}:agent", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert out.read_text().startswith("# Tools")
    as_json = subprocess.run(
        [sys.executable, "-m", "selectools.docgen", f"{tools_file}:search", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert [t["name"] for t in json.loads(as_json.stdout)] == ["search"]
    missing = subprocess.run(
        [sys.executable, "-m", "selectools.docgen", f"{tools_file}:nothing"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert "has no 'nothing'" in missing.stderr


def test_toolkits_and_lists() -> None:
    from selectools.docgen import collect_tools, describe_tool
    from selectools.toolbox import Toolbox

    tools = collect_tools(Toolbox())
    assert "calculate" in [t.name for t in tools]
    assert all(describe_tool(t)["description"] for t in tools)
    with pytest.raises(TypeError, match="Cannot find tools in a int"):
        collect_tools(5)
