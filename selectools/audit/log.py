"""`AuditLog`: the policy that records every tool call and every approval decision.

    agent = Agent(tools, provider, policies=[AuditLog(SQLAuditSink(url), redact=["password"])])

Its tool face writes one record when a call ends (`after_tool`), and one when
a call is cut off by a cancelled or failing run (`tool_abandoned`, where
`after_tool` never runs), so a run that dies mid-call still leaves its row.
Its observer face (the agent hands policies with observer hooks to its
observers) records approval requests and decisions.

List it first among the policies: it then sees each call's final outcome,
after retries, caches, guardrails and approval have had their say, and the
arguments as the tool received them. Calls the model made to unknown tools
or with arguments that failed validation never reach the policies and are
not recorded (the model reads their error and may retry; a retry is recorded).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from ..bridge import run_in_thread
from ..events import ApprovalDecided, ApprovalRequested
from ..policies.base import ToolPolicy
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from .records import AuditRecord, Outcome, Redactor
from .sinks import AuditReader, AuditSink, CallableSink, LogSink, MemoryAuditSink

__all__ = ["AuditLog"]

logger = logging.getLogger("selectools.audit")


class AuditLog(ToolPolicy):
    """Record tool calls and approval decisions in `sink`.

    Args:
        sink: a `LogSink` (default: JSON lines on the `selectools.audit`
            logger), `SQLAuditSink`, `MemoryAuditSink`, any object with
            `write(record)`, or a plain function of one `AuditRecord`.
        redact: argument fields whose values are replaced with `[redacted]`,
            at any depth, case-insensitive, shell patterns allowed (`"*token"`).
        redact_pii: also redact emails, phones, cards and IBANs inside
            every other string argument (see `selectools.guardrails.RedactPII`).
        on_error: "log" (default) logs a sink that fails and lets the run go
            on; "raise" fails the call's run instead (no record, no action).
    """

    def __init__(
        self,
        sink: AuditSink | Callable[[AuditRecord], object] | None = None,
        *,
        redact: Iterable[str] = (),
        redact_pii: bool = False,
        on_error: Literal["log", "raise"] = "log",
    ) -> None:
        if sink is None:
            sink = LogSink()
        elif not isinstance(sink, AuditSink):
            if not callable(sink):
                raise TypeError(f"An audit sink needs write(record) or is callable, got {sink!r}.")
            sink = CallableSink(sink)
        self.sink: AuditSink = sink
        values = None
        if redact_pii:
            from ..guardrails.pii import RedactPII

            values = RedactPII().redact
        self.redactor = Redactor(redact, values=values)
        self.on_error = on_error
        # Writing to a database blocks: from a running event loop it goes to a thread.
        self._blocking = not isinstance(sink, LogSink | MemoryAuditSink | CallableSink)

    def __repr__(self) -> str:
        return f"AuditLog({type(self.sink).__name__})"

    @property
    def reader(self) -> AuditReader | None:
        """The sink, if it can list records (for `GET {prefix}/audit`)."""
        return self.sink if isinstance(self.sink, AuditReader) else None

    # -- tool face ------------------------------------------------------------------

    def after_tool(
        self, invocation: ToolInvocation, record: ToolCallRecord
    ) -> Awaitable[None] | None:
        outcome: Outcome = "ok" if record.ok else "failed"
        return self.write(self._record(invocation, outcome, record.error_type, record.duration_ms))

    def tool_abandoned(self, invocation: ToolInvocation, exc: BaseException) -> None:
        """The run stopped mid-call: written now, from whatever thread is unwinding."""
        import time

        outcome: Outcome = "error" if isinstance(exc, Exception) else "cancelled"
        kind = type(exc).__name__
        elapsed = (time.perf_counter() - invocation.started) * 1000
        self._write_now(self._record(invocation, outcome, kind, elapsed))

    def _record(
        self, invocation: ToolInvocation, outcome: Outcome, error_type: str | None, ms: float
    ) -> AuditRecord:
        context = invocation.context
        return AuditRecord(
            time=datetime.now(UTC) - timedelta(milliseconds=ms),
            tool=invocation.call.name,
            outcome=outcome,
            arguments=self._arguments(invocation.call.arguments),
            identity=context.identity,
            session_id=context.session_id,
            run_id=context.run_id,
            call_id=invocation.call.id,
            error_type=error_type,
            duration_ms=ms,
        )

    def _arguments(self, raw: str | Mapping[str, Any]) -> dict[str, Any]:
        if isinstance(raw, str):
            try:
                raw = json.loads(raw) if raw.strip() else {}
            except ValueError:
                return {"_unparsed": "[redacted]"}
        if not isinstance(raw, Mapping):
            return {"_value": self.redactor(raw)}
        redacted: dict[str, Any] = self.redactor(raw)
        return redacted

    # -- observer face: approvals -----------------------------------------------------

    def on_approval_requested(self, event: ApprovalRequested) -> Awaitable[None] | None:
        """One `awaiting_approval` record per pending call of a paused run."""
        writes = [
            self.write(
                AuditRecord(
                    time=datetime.now(UTC),
                    tool=call.tool,
                    outcome="awaiting_approval",
                    arguments=self._arguments(call.arguments),
                    identity=event.identity,
                    session_id=event.session_id,
                    run_id=event.run_id,
                    call_id=call.id,
                )
            )
            for call in event.calls
        ]
        pending = [w for w in writes if w is not None]
        return _all(pending) if pending else None

    def on_approval_decided(self, event: ApprovalDecided) -> Awaitable[None] | None:
        """An `approved` or `rejected` record, with the deciding identity and the reason."""
        return self.write(
            AuditRecord(
                time=datetime.now(UTC),
                tool=event.tool,
                outcome="approved" if event.approved else "rejected",
                arguments=self._arguments(event.arguments),
                identity=event.identity,
                session_id=event.session_id,
                run_id=event.run_id,
                call_id=event.call_id,
                reason=event.reason,
            )
        )

    # -- writing ----------------------------------------------------------------------

    def write(self, record: AuditRecord) -> Awaitable[None] | None:
        """Write now, or (a blocking sink, called on a running event loop) in a thread."""
        if self._blocking and _on_event_loop():
            return self._write_in_thread(record)
        self._write_now(record)
        return None

    async def _write_in_thread(self, record: AuditRecord) -> None:
        try:
            await run_in_thread(self.sink.write, record)
        except Exception:
            if self.on_error == "raise":
                raise
            logger.exception("audit sink %r failed; record lost: %s", self.sink, record.to_json())

    def _write_now(self, record: AuditRecord) -> None:
        try:
            self.sink.write(record)
        except Exception:
            if self.on_error == "raise":
                raise
            logger.exception("audit sink %r failed; record lost: %s", self.sink, record.to_json())


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _all(writes: list[Awaitable[None]]) -> None:
    for write in writes:
        await write
