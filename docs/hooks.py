"""MkDocs hook: pages pull their text from README.md, so the site and the README
(whose every code block runs in tests/test_readme.py) cannot drift apart.

A line `{{ readme "## FastAPI" }}` becomes that README section without its
heading (to the next heading of the same level or higher); `{{ readme "## X" intro }}`
stops at the first subsection.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[1] / "README.md"
_INCLUDE = re.compile(r'^\{\{ readme "(?P<heading>#{1,3} [^"]+)"(?P<intro> intro)? \}\}$', re.M)


def section(text: str, heading: str, *, intro: bool = False) -> str:
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        raise ValueError(f"README.md has no heading {heading!r} (docs/hooks.py)") from None
    level = len(heading) - len(heading.lstrip("#"))
    stop = level + 1 if intro else level
    body = []
    in_fence = False
    for line in lines[start + 1 :]:
        if line.startswith("```"):
            in_fence = not in_fence
        marks = len(line) - len(line.lstrip("#"))
        if not in_fence and 0 < marks <= stop and line[marks : marks + 1] == " ":
            break
        body.append(line)
    text = "\n".join(body).strip() + "\n"
    # Files of the repository (CHANGELOG.md, examples/...) are not pages: keep the text.
    return _unlink(text)


def _unlink(text: str) -> str:
    return re.sub(r"\[([^\]]+)\]\((?!https?://|#)[^)]+\)", r"\1", text)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    readme = README.read_text()
    return _INCLUDE.sub(
        lambda m: section(readme, m.group("heading"), intro=bool(m.group("intro"))), markdown
    )
