"""`selectools docs`: the docgen behind the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from selectools.cli import build


def test_docs_markdown_and_json(agent_file: Path, tmp_path: Path) -> None:
    cli = build()
    shown = CliRunner().invoke(cli, ["docs", f"{agent_file}:agent"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("# Tools\n\n1 tool(s).")
    assert "| `order_id` | integer | yes |" in shown.output

    out = tmp_path / "tools.json"
    wrote = CliRunner().invoke(cli, ["docs", f"{agent_file}:agent", "--json", "-o", str(out)])
    assert wrote.exit_code == 0, wrote.output
    (entry,) = json.loads(out.read_text())
    assert entry["name"] == "get_order"
    assert entry["parameters"][0]["name"] == "order_id"

    missing = CliRunner().invoke(cli, ["docs", "no_such_module_here:agent"])
    assert missing.exit_code == 1
    assert "No module named 'no_such_module_here'" in missing.output
