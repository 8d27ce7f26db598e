"""Cutting a streamed answer into sentences and lines, so a check sees whole words and numbers.

A model streams text in arbitrary pieces: `bob@exa` then `mple.com`, or a
card number over four chunks. Checking each chunk alone would miss both.
`Segmenter` holds text back until a sentence ends (`.`, `!`, `?` followed
by whitespace) or a line ends, and hands out whole segments. A run of text
with neither is cut at `max_chars`, at its last whitespace: something split
across that cut (a 2,000-character line with a card number at the cut) is
checked in two halves. That is the documented limit of streamed checks.
"""

from __future__ import annotations

import re

__all__ = ["Segmenter"]

_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+|\n")


class Segmenter:
    """Feed text pieces in; get whole segments out; `flush()` returns the rest at the end."""

    def __init__(self, max_chars: int = 2000) -> None:
        if max_chars < 64:
            raise ValueError(f"max_chars must be at least 64, got {max_chars}.")
        self.max_chars = max_chars
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        segments: list[str] = []
        while True:
            cut = self._cut()
            if cut is None:
                return segments
            segments.append(self._buffer[:cut])
            self._buffer = self._buffer[cut:]

    def flush(self) -> str:
        rest, self._buffer = self._buffer, ""
        return rest

    def _cut(self) -> int | None:
        buffer = self._buffer
        last = None
        for match in _BOUNDARY.finditer(buffer):
            if match.end() == len(buffer) and not match.group().endswith("\n"):
                break  # the whitespace may go on in the next piece: "Hi.  " + " there"
            last = match.end()
            break
        if last is not None:
            return last
        if len(buffer) <= self.max_chars:
            return None
        space = buffer.rfind(" ", 0, self.max_chars)
        return space + 1 if space > 0 else self.max_chars
