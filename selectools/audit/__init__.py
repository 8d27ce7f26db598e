"""Audit log: a record of every tool call and every approval decision.

    from selectools.audit import AuditLog, SQLAuditSink
    agent = Agent(tools, provider, policies=[AuditLog(SQLAuditSink(url), redact=["password"])])

- `records`: `AuditRecord` (time, identity, session, run, tool, redacted
  arguments, outcome, error type, duration, reason) and the argument `Redactor`.
- `sinks`: `LogSink` (JSON lines, the default), `MemoryAuditSink`,
  `CallableSink`, and `AuditQuery` for sinks that can list records.
- `sql`: `SQLAuditSink`, one SQL table via SQLAlchemy (SQLite, PostgreSQL).
- `log`: `AuditLog`, the policy that writes them (also on cancelled and failed runs).

`GET {prefix}/audit` (off by default: `ServingOptions(audit_route=True)`,
Flask `SELECTOOLS_AUDIT_ROUTE`) lists a listable sink's records over HTTP.
"""

from __future__ import annotations

from .log import AuditLog
from .records import OUTCOMES, AuditRecord, Outcome, Redactor
from .sinks import AuditQuery, AuditReader, AuditSink, CallableSink, LogSink, MemoryAuditSink
from .sql import SQLAuditSink

__all__ = [
    "OUTCOMES",
    "AuditLog",
    "AuditQuery",
    "AuditReader",
    "AuditRecord",
    "AuditSink",
    "CallableSink",
    "LogSink",
    "MemoryAuditSink",
    "Outcome",
    "Redactor",
    "SQLAuditSink",
]
