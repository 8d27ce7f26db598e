"""Regular expressions and text counts, bounded in time (the `regex` package's timeout).

A pattern from a model may backtrack catastrophically (`(a+)+$` over a long
run of a's); every match and replacement here stops after `REGEX_TIMEOUT`
seconds and tells the model to simplify the pattern, instead of pinning a worker.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from ..extras import require
from ..tools.tool import tool
from ..tools.toolkit import RefusedError, ToolkitError

__all__ = ["regex_find", "regex_replace", "text_stats"]

MAX_PATTERN_CHARS = 500
MAX_TEXT_CHARS = 1_000_000
MAX_MATCHES = 200
REGEX_TIMEOUT = 1.0

Flag = Literal["ignorecase", "multiline", "dotall", "verbose"]


def _compile(pattern: str, flags: list[Flag]) -> Any:
    regex = require("regex", extra="toolbox", feature="regex tools")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise RefusedError(f"The pattern is over {MAX_PATTERN_CHARS} characters.")
    value = regex.VERSION0  # the re-compatible dialect models know
    for name in flags:
        value |= {
            "ignorecase": regex.IGNORECASE,
            "multiline": regex.MULTILINE,
            "dotall": regex.DOTALL,
            "verbose": regex.VERBOSE,
        }[name]
    try:
        return regex.compile(pattern, value)
    except regex.error as exc:
        raise ToolkitError(f"Invalid regular expression {pattern!r}: {exc}.") from None


def _check_text(text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise RefusedError(f"The text is {len(text)} characters; the limit is {MAX_TEXT_CHARS}.")


def _too_slow(pattern: str) -> RefusedError:
    return RefusedError(
        f"The pattern {pattern!r} took over {REGEX_TIMEOUT:g} s on this text (catastrophic "
        f"backtracking, e.g. nested quantifiers like (a+)+). Simplify it."
    )


@tool
def regex_find(
    pattern: str, text: str, flags: list[Flag] | None = None, max_matches: int = 50
) -> dict[str, Any]:
    """Find the matches of a regular expression (Python syntax) with their groups and positions.

    Args:
        pattern: the regular expression.
        text: the text to search.
        flags: any of ignorecase, multiline, dotall, verbose.
        max_matches: most matches to return (up to 200).
    """
    compiled = _compile(pattern, flags or [])
    _check_text(text)
    limit = max(1, min(max_matches, MAX_MATCHES))
    matches: list[dict[str, Any]] = []
    more = False
    try:
        for match in compiled.finditer(text, timeout=REGEX_TIMEOUT):
            if len(matches) == limit:
                more = True
                break
            found: dict[str, Any] = {"match": match.group(0), "start": match.start()}
            if match.groups():
                found["groups"] = list(match.groups())
            if match.groupdict():
                found["named"] = match.groupdict()
            matches.append(found)
    except TimeoutError:
        raise _too_slow(pattern) from None
    return {"count": len(matches), "more": more, "matches": matches}


@tool
def regex_replace(
    pattern: str, replacement: str, text: str, count: int = 0, flags: list[Flag] | None = None
) -> str:
    """Replace the matches of a regular expression; `\\1` or `\\g<name>` refer to groups.

    Args:
        pattern: the regular expression.
        replacement: the replacement text.
        text: the text to change.
        count: most replacements (0 means all).
        flags: any of ignorecase, multiline, dotall, verbose.
    """
    regex = require("regex", extra="toolbox", feature="regex tools")
    compiled = _compile(pattern, flags or [])
    _check_text(text)
    try:
        result: str = compiled.sub(replacement, text, count=max(count, 0), timeout=REGEX_TIMEOUT)
    except TimeoutError:
        raise _too_slow(pattern) from None
    except (IndexError, ValueError, regex.error) as exc:  # a bad group reference
        raise ToolkitError(f"Invalid replacement {replacement!r}: {exc}.") from None
    if len(result) > MAX_TEXT_CHARS:
        raise RefusedError(f"The result would be over {MAX_TEXT_CHARS} characters.")
    return result


_WORD = re.compile(r"\w+(?:['\u2019-]\w+)*")  # don't, well-known (straight or curly apostrophe)
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


@tool
def text_stats(text: str, top: int = 10) -> dict[str, Any]:
    """Count characters, words, lines and sentences, and list the most frequent words.

    Args:
        text: the text to measure.
        top: how many of the most frequent words to list (up to 50).
    """
    _check_text(text)
    words = _WORD.findall(text)
    frequent = Counter(w.lower() for w in words).most_common(max(0, min(top, 50)))
    return {
        "characters": len(text),
        "characters_without_spaces": sum(1 for c in text if not c.isspace()),
        "words": len(words),
        "lines": text.count("\n") + 1 if text else 0,
        "sentences": len(_SENTENCE_END.findall(text)) or (1 if words else 0),
        "most_frequent_words": [{"word": w, "count": n} for w, n in frequent],
    }
