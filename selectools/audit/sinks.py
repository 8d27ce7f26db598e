"""Where audit records go: JSON lines on a logger (the default), memory, or any callable.

A sink is anything with `write(record)`. A sink that can also answer
`query(AuditQuery) -> list[AuditRecord]` (newest first) can back the
`GET {prefix}/audit` route: `MemoryAuditSink` and `SQLAuditSink` can.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, runtime_checkable

from ..frozen import record
from .records import AuditRecord

__all__ = [
    "AuditQuery",
    "AuditReader",
    "AuditSink",
    "CallableSink",
    "LogSink",
    "MemoryAuditSink",
]


@runtime_checkable
class AuditSink(Protocol):
    def write(self, record: AuditRecord) -> None: ...


@record
class AuditQuery:
    """Which records to list, newest first.

    `identity` scopes the list to one caller's records (`None` there means the
    anonymous caller's); `everyone=True` lifts that scope (admins).
    `before` is the `id` to continue below (the previous page's `next`).
    """

    identity: str | None = None
    everyone: bool = False
    session_id: str | None = None
    tool: str | None = None
    limit: int = 50
    before: int | None = None

    def matches(self, record: AuditRecord) -> bool:
        return (
            (self.everyone or record.identity == self.identity)
            and (self.session_id is None or record.session_id == self.session_id)
            and (self.tool is None or record.tool == self.tool)
            and (self.before is None or (record.id is not None and record.id < self.before))
        )


@runtime_checkable
class AuditReader(Protocol):
    def query(self, query: AuditQuery) -> list[AuditRecord]: ...


class LogSink:
    """Each record as one JSON line on `logger` (default `selectools.audit`, level INFO).

    Send that logger to a file or your log pipeline with the usual logging
    configuration; the line is the whole record, so it parses on its own.
    """

    def __init__(
        self, logger: str | logging.Logger = "selectools.audit", level: int = logging.INFO
    ) -> None:
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level

    def write(self, record: AuditRecord) -> None:
        self.logger.log(self.level, record.to_json())


class CallableSink:
    """Any function of one record: a queue, a metrics counter, a SIEM client."""

    def __init__(self, function: Callable[[AuditRecord], object]) -> None:
        self.function = function

    def write(self, record: AuditRecord) -> None:
        self.function(record)


class MemoryAuditSink:
    """The last `max_records` records of this process, listable: for tests and small apps."""

    def __init__(self, max_records: int = 10_000) -> None:
        self.records: deque[AuditRecord] = deque(maxlen=max_records)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def write(self, record: AuditRecord) -> None:
        with self._lock:
            self.records.append(replace(record, id=next(self._ids)))

    def query(self, query: AuditQuery) -> list[AuditRecord]:
        with self._lock:
            found = [r for r in reversed(self.records) if query.matches(r)]
        return found[: query.limit]
