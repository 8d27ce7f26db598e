"""The caps on what a query returns: rows, characters, and what the model is told.

Rows are taken a few at a time and counted as they come, so a result stops
growing in memory where the caps stop it (the database layer has already cut
each value to `max_cell_chars`). The first row counts too: a row wider than
`max_chars` comes back with its values cut evenly, and says so.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["Fetched", "RowCollector", "render_cell", "tool_result"]

_BATCH = 16


class _Cursor(Protocol):
    def fetchmany(self, size: int = ...) -> Sequence[Sequence[Any]]: ...


@dataclass(slots=True)
class Fetched:
    """The rows a capped query returned, and why it stopped."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    more_rows: bool = False
    cut_by_chars: bool = False
    first_row_cut_to: int | None = None

    @property
    def truncated(self) -> bool:
        return self.more_rows or self.cut_by_chars


def render_cell(value: Any, max_cell_chars: int | None = None) -> Any:
    """A database value as JSON-friendly data (bytes as a size, the rest as text).

    `max_cell_chars` cuts text here, for databases whose layer cannot cut it in the query.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, decimal.Decimal | datetime.date | datetime.time | uuid.UUID):
        return str(value)
    text = str(value)
    if max_cell_chars is not None and len(text) > max_cell_chars:
        return text[:max_cell_chars] + f"... [{len(text) - max_cell_chars} more characters]"
    return text


def _size(cells: Sequence[Any]) -> int:
    return sum(len(str(c)) for c in cells) + 2 * len(cells)


class RowCollector:
    """Takes rows from a cursor until `max_rows` or `max_chars` is reached."""

    def __init__(
        self,
        columns: list[str],
        *,
        max_rows: int,
        max_chars: int,
        max_cell_chars: int | None = None,
    ) -> None:
        self.fetched = Fetched(columns)
        self.max_rows = max_rows
        self.max_chars = max_chars
        self.max_cell_chars = max_cell_chars
        self._used = 0

    def collect(self, cursor: _Cursor) -> Fetched:
        """Fetch in small batches; stop as soon as a cap is reached (the rest is not read)."""
        while True:
            batch = cursor.fetchmany(_BATCH)
            if not batch:
                return self.fetched
            for row in batch:
                if not self._add(row):
                    return self.fetched

    def _add(self, row: Sequence[Any]) -> bool:
        fetched = self.fetched
        if len(fetched.rows) >= self.max_rows:
            fetched.more_rows = True
            return False
        cells = [render_cell(v, self.max_cell_chars) for v in row]
        size = _size(cells)
        if self._used + size <= self.max_chars:
            fetched.rows.append(cells)
            self._used += size
            return True
        fetched.cut_by_chars = True
        if not fetched.rows:  # the first row alone is too wide: cut its values evenly
            per_cell = (self.max_chars // max(1, len(cells))) - 3
            if per_cell >= 1:
                fetched.rows.append([_shorten(c, per_cell) for c in cells])
                fetched.first_row_cut_to = per_cell
        return False


def _shorten(cell: Any, limit: int) -> Any:
    if isinstance(cell, str) and len(cell) > limit:
        return cell[:limit] + "…"
    return cell


def tool_result(fetched: Fetched, *, max_rows: int, max_chars: int) -> dict[str, Any]:
    """What `run_query` returns: columns, rows, and a note when anything was left out."""
    result: dict[str, Any] = {
        "columns": fetched.columns,
        "rows": fetched.rows,
        "row_count": len(fetched.rows),
        "truncated": fetched.truncated,
    }
    if fetched.first_row_cut_to is not None:
        result["note"] = (
            f"The first row is wider than the limit of {max_chars} characters, so each of its "
            f"values was cut to {fetched.first_row_cut_to} characters (marked …) and no more "
            f"rows are shown. Select fewer or shorter columns."
        )
    elif fetched.cut_by_chars and not fetched.rows:
        result["note"] = (
            f"The first row has too many columns to show within {max_chars} characters. "
            f"Select fewer columns."
        )
    elif fetched.truncated:
        limit = f"{max_chars} characters" if fetched.cut_by_chars else f"{max_rows} rows"
        result["note"] = (
            f"Only the first {len(fetched.rows)} rows are shown (limit: {limit}). "
            f"Aggregate, filter or select fewer columns to see the rest."
        )
    return result
