"""examples/langchain_chain.py runs offline and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "langchain_chain.py"


def test_langchain_example_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, check=True, timeout=60
    )
    assert "LangChain sees: sunny in Oslo" in out.stdout
    assert "Chain answers: It is sunny in Lisbon, and 21 °C is 69.8 °F." in out.stdout
