"""Each connector example runs offline and shows what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples" / "connectors"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("sql_agent.py", ["Only read-only queries are allowed", "Answer: Won: 12,000"]),
        ("chroma_agent.py", ["Found: Employees get 25 days", "Answer: 25 days a year."]),
        ("s3_agent.py", ["Q3 revenue grew 12%", "'..' segments are refused", "Answer: Revenue"]),
    ],
)
def test_connector_example(script: str, expected: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for text in expected:
        assert text in out.stdout
