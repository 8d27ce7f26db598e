"""Resumable batches: each finished item is written down, and a restarted batch skips it.

A checkpoint maps an item's index to a record of its result, with a
fingerprint of the item's input so a record is never reused for a different
input. `FileCheckpoint` appends one JSON line per finished item and flushes
it, so a batch killed at any moment (even mid-line) resumes from what was
written. Anything with `load()` and `save()` is a checkpoint (a database
table, a job store).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..messages import Message, RunInput, coerce_messages
from ..results import AgentResult, ToolCallRecord
from ..usage import Usage

__all__ = ["Checkpoint", "FileCheckpoint", "fingerprint", "result_from_record", "result_record"]


@runtime_checkable
class Checkpoint(Protocol):
    """Where a batch writes down its finished items."""

    def load(self) -> Mapping[int, Mapping[str, Any]]:
        """Every saved record by item index."""
        ...

    def save(self, index: int, record: Mapping[str, Any]) -> None:
        """Keep `record` for item `index` (called once per item, from any thread)."""
        ...


class FileCheckpoint:
    """A JSON-lines file, one line per finished item, flushed as it is written."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._line_start: bool | None = None  # whether the file ends with a whole line

    def __repr__(self) -> str:
        return f"FileCheckpoint({str(self.path)!r})"

    def load(self) -> dict[int, Mapping[str, Any]]:
        if not self.path.exists():
            return {}
        records: dict[int, Mapping[str, Any]] = {}
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except ValueError:  # a line cut short when the process died: not finished
                    continue
                if isinstance(record, dict) and isinstance(record.get("index"), int):
                    records[record["index"]] = record
        return records

    def save(self, index: int, record: Mapping[str, Any]) -> None:
        line = json.dumps({**record, "index": index}, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a+b") as out:
            if self._line_start is None:  # a line torn by a kill: start after it, not on it
                self._line_start = out.tell() == 0 or _last_byte(out) == b"\n"
            out.write(line.encode() if self._line_start else b"\n" + line.encode())
            out.flush()
            self._line_start = True


def _last_byte(file: Any) -> bytes:
    file.seek(-1, os.SEEK_END)
    last: bytes = file.read(1)
    return last


def fingerprint(run_input: RunInput) -> str:
    """A stable digest of one input, so a record only ever answers the same input."""
    messages = [m.to_dict() for m in coerce_messages(run_input)]
    text = json.dumps(messages, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def result_record(result: AgentResult, key: str) -> dict[str, Any]:
    """What a checkpoint keeps of a result: enough to give it back whole."""
    return {
        "key": key,
        "result": result.to_dict(),
        "messages": [m.to_dict() for m in result.messages],
        "new_messages": [m.to_dict() for m in result.new_messages],
    }


def result_from_record(record: Mapping[str, Any]) -> AgentResult:
    """The `AgentResult` a record was made from (tool results as their text output)."""
    data = record["result"]
    usage = {k: v for k, v in data["usage"].items() if k != "total_tokens"}
    calls = tuple(
        ToolCallRecord(
            id=c["id"],
            name=c["name"],
            raw_arguments=c["raw_arguments"],
            arguments=c["arguments"],
            result=c["output"],
            output=c["output"],
            error=c["error"],
            error_type=c["error_type"],
            duration_ms=c["duration_ms"],
            cached=c["cached"],
        )
        for c in data["tool_calls"]
    )
    return AgentResult(
        text=data["output"],
        messages=tuple(Message.from_dict(m) for m in record["messages"]),
        new_messages=tuple(Message.from_dict(m) for m in record["new_messages"]),
        tool_calls=calls,
        usage=Usage(**usage),
        run_id=data["run_id"],
        session_id=data["session_id"],
        model=data["model"],
        iterations=data["iterations"],
        provider=data["provider"],
    )
