"""Every python block in the README passes `mypy --strict`, each as its own module.

tests/test_readme.py proves the blocks run as printed; this proves they are as well
typed as the library, since users copy them into strictly checked code. One mypy run
for all blocks, with the project's configuration (its plugins, overrides and
warn_unused_ignores, so an ignore a block no longer needs fails here too).
"""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).parents[2]


def test_readme_python_blocks_pass_strict_mypy(tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks
    files = []
    for number, block in enumerate(blocks):
        module = tmp_path / f"readme_block_{number:02d}.py"
        module.write_text(block)
        files.append(str(module))
    options = ["--strict", "--config-file", str(ROOT / "pyproject.toml")]
    cache = ["--cache-dir", str(ROOT / ".mypy_cache")]  # the project's: seconds, not half a minute
    stdout, stderr, status = api.run([*files, *options, *cache])
    assert status == 0, stdout + stderr
    assert f"no issues found in {len(blocks)} source files" in stdout, stdout
