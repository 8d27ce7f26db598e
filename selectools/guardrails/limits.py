"""Refusing by size and by pattern: `MaxLength` and `DenyPatterns`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .base import Check, Refusal, Stage, stages_of

__all__ = ["DenyPatterns", "MaxLength"]


class MaxLength:
    """Refuse a text longer than `max_chars` (default stage: user input)."""

    name = "max_length"

    def __init__(self, max_chars: int, *, stages: Iterable[Stage] | None = None) -> None:
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}.")
        self.max_chars = max_chars
        self.stages = stages_of(stages, ("input",))

    def check(self, text: str, stage: Stage) -> Check:
        if len(text) > self.max_chars:
            return Refusal(
                f"it is {len(text)} characters long; the limit is {self.max_chars}. "
                f"Shorten it and try again."
            )
        return None


class DenyPatterns:
    """Refuse a text matching any of `patterns` (regular expressions, case-insensitive).

    The refusal names the pattern's label (its index, or the key when a
    mapping of label to pattern is given), never the matched text.
    Default stages: user input and answers. Patterns are searched with
    Python's `re`: keep them simple (no nested repetition) for large texts.
    """

    name = "deny_patterns"

    def __init__(
        self,
        patterns: Iterable[str] | dict[str, str],
        *,
        stages: Iterable[Stage] | None = None,
        flags: int = re.IGNORECASE,
    ) -> None:
        items = patterns.items() if isinstance(patterns, dict) else enumerate(patterns)
        self.patterns = [(str(label), re.compile(p, flags)) for label, p in items]
        if not self.patterns:
            raise ValueError("DenyPatterns needs at least one pattern.")
        self.stages = stages_of(stages, ("input", "output"))

    def check(self, text: str, stage: Stage) -> Check:
        for label, pattern in self.patterns:
            if pattern.search(text):
                return Refusal(f"it matches denied pattern '{label}'.")
        return None
