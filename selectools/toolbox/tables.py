"""A summary of a CSV or Excel file in one folder: columns, types, counts, ranges, sample rows.

The model asks for a summary instead of reading a whole spreadsheet into its
context. Files are found through the same `Folder` rules as `FileToolkit`;
rows are read as a stream and counting stops at `max_rows`; an .xlsx file is
checked before it is opened (a zip whose contents would unpack beyond
`max_unpacked_bytes` is refused: a decompression bomb never reaches openpyxl).
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from ..extras import require
from ..tools.tool import Tool, method_tool
from ..tools.toolkit import RefusedError, Toolkit, ToolkitError
from .folder import Folder

__all__ = ["TableToolkit"]

_DISTINCT_CAP = 1000


class TableToolkit(Toolkit):
    """`summarize_table` for CSV and .xlsx files under one folder (read-only).

    Args:
        root: the folder the model may read; paths are relative to it.
        max_bytes: larger files are refused.
        max_rows: rows read at most (the summary says when it stopped there).
        max_unpacked_bytes: an .xlsx (a zip) unpacking to more than this is refused.
        sample_rows: rows shown as examples.
        allow_hidden: also share hidden files and folders.
        name_prefix: put before the tool name.
    """

    name = "tables"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_bytes: int = 20_000_000,
        max_rows: int = 100_000,
        max_unpacked_bytes: int = 100_000_000,
        sample_rows: int = 5,
        allow_hidden: bool = False,
        name_prefix: str = "",
    ) -> None:
        self.folder = Folder(root, allow_hidden=allow_hidden)
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self.max_unpacked_bytes = max_unpacked_bytes
        self.sample_rows = sample_rows
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        return [method_tool(self.summarize_table, prefix=self.name_prefix)]

    def close(self) -> None:
        """Nothing to release: files are opened and closed per call."""

    def summarize_table(self, path: str, sheet: str | None = None) -> dict[str, Any]:
        """Summarize a CSV or Excel (.xlsx) file: columns, types, counts, ranges and sample rows.

        Args:
            path: the file, relative to the shared folder.
            sheet: the Excel sheet (default: the first one).
        """
        suffix = path.lower().rsplit(".", 1)[-1] if "." in path else ""
        if suffix not in ("csv", "tsv", "txt", "xlsx", "xlsm"):
            raise ToolkitError(
                f"{path!r} is not a CSV or .xlsx file. Old .xls files are not supported: "
                f"save them as .xlsx or CSV."
            )
        fd, info = self.folder.open_file(path)
        with os.fdopen(fd, "rb") as handle:
            if info.st_size > self.max_bytes:
                raise RefusedError(
                    f"{path!r} is {info.st_size} bytes; the limit is {self.max_bytes}."
                )
            data = handle.read(self.max_bytes + 1)
        sheets: list[str] | None = None
        if suffix in ("xlsx", "xlsm"):
            header, rows, sheets = self._xlsx_rows(path, data, sheet)
        else:
            header, rows = _split_header(_csv_rows(data))
        summary = _summarize(header, rows, self.max_rows, self.sample_rows)
        summary["path"] = path
        if sheets is not None:
            summary["sheets"] = sheets
        return summary

    def _xlsx_rows(
        self, path: str, data: bytes, sheet: str | None
    ) -> tuple[list[str], Iterator[list[Any]], list[str]]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise ToolkitError(f"{path!r} is not a valid .xlsx file.") from None
        unpacked = sum(item.file_size for item in archive.infolist())
        if unpacked > self.max_unpacked_bytes:
            raise RefusedError(
                f"{path!r} would unpack to {unpacked} bytes; the limit is "
                f"{self.max_unpacked_bytes}."
            )
        openpyxl = require("openpyxl", extra="toolbox", feature="summarize_table on .xlsx")
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for broken files
            raise ToolkitError(f"{path!r} could not be read as .xlsx ({exc}).") from None
        names = list(book.sheetnames)
        chosen = sheet if sheet is not None else names[0]
        if chosen not in names:
            raise ToolkitError(f"No sheet {chosen!r} in {path!r}; its sheets: {', '.join(names)}.")
        values = book[chosen].iter_rows(values_only=True)
        header, rows = _split_header([*row] for row in values)
        return header, rows, names


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = data.decode("utf-8-sig", "replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:65536], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    return iter(csv.reader(io.StringIO(text), dialect))


def _split_header(rows: Iterator[list[Any]]) -> tuple[list[str], Iterator[list[Any]]]:
    first = next(rows, None)
    if first is None:
        return [], iter(())
    header = [
        str(v).strip() if v not in (None, "") else f"column_{i + 1}" for i, v in enumerate(first)
    ]
    return header, rows


def _summarize(
    header: list[str], rows: Iterator[list[Any]], max_rows: int, sample_rows: int
) -> dict[str, Any]:
    columns = [_Column(name) for name in header]
    samples: list[dict[str, Any]] = []
    count = 0
    stopped = False
    for row in rows:
        if count == max_rows:
            stopped = True
            break
        count += 1
        if len(samples) < sample_rows:
            samples.append(
                {c.name: _plain(row[i]) if i < len(row) else None for i, c in enumerate(columns)}
            )
        for i, column in enumerate(columns):
            column.add(row[i] if i < len(row) else None)
    summary: dict[str, Any] = {
        "rows": count,
        "columns": [c.describe() for c in columns],
        "sample_rows": samples,
    }
    if stopped:
        summary["note"] = f"Stopped after {max_rows} rows; the file has more."
    return summary


class _Column:
    def __init__(self, name: str) -> None:
        self.name = name
        self.filled = 0
        self.empty = 0
        self.kinds: dict[str, int] = {}
        self.distinct: set[str] = set()
        self.low: Any = None
        self.high: Any = None
        self.total = 0.0
        self.numbers = 0

    def add(self, raw: Any) -> None:
        value = _typed(raw)
        if value is None:
            self.empty += 1
            return
        self.filled += 1
        kind = type(value).__name__
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if len(self.distinct) <= _DISTINCT_CAP:
            self.distinct.add(str(value))
        if isinstance(value, int | float):
            self.total += value
            self.numbers += 1
        if isinstance(value, int | float | datetime | date):
            try:
                self.low = value if self.low is None or value < self.low else self.low
                self.high = value if self.high is None or value > self.high else self.high
            except TypeError:  # mixed dates and numbers: no range
                pass

    def describe(self) -> dict[str, Any]:
        kind = max(self.kinds, key=lambda k: self.kinds[k]) if self.kinds else "empty"
        kind = {"str": "text", "int": "integer", "float": "number"}.get(kind, kind)
        described: dict[str, Any] = {
            "name": self.name,
            "type": kind,
            "filled": self.filled,
            "empty": self.empty,
            "distinct": len(self.distinct)
            if len(self.distinct) <= _DISTINCT_CAP
            else f"over {_DISTINCT_CAP}",
        }
        if self.low is not None:
            described["min"], described["max"] = _plain(self.low), _plain(self.high)
        if self.numbers:
            described["mean"] = round(self.total / self.numbers, 6)
        return described


def _typed(raw: Any) -> Any:
    """Cells from CSV are text: numbers and ISO dates become numbers and dates."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if not text:
        return None
    for convert in (int, float):
        try:
            return convert(text.replace(",", "")) if convert is int else convert(text)
        except ValueError:
            continue
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        return text


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "..."
    return value
