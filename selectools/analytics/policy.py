"""The Analytics policy: one fact per tool call (tool face) and per run (run hooks).

A run's tool facts wait in memory until the run ends, then go to the store
with the run's own fact in one write (one SQL transaction per run).

A run's identity reaches the run hooks through the model requests it makes
(the provider face notes it), since a run's end event does not carry it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator

from ..events import RunFailed, RunFinished, RunStarted
from ..policies.base import ProviderWrapper, ToolPolicy
from ..providers.base import ModelRequest, ModelResponse, Provider, TextChunk
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from .facts import AnalyticsQuery, AnalyticsStore, RunFact, ToolFact
from .memory import InMemoryAnalyticsStore
from .report import AnalyticsReport, build_report

__all__ = ["Analytics"]

_MAX_OPEN_RUNS = 10_000


class Analytics(ToolPolicy):
    """Record tool calls and runs in `store` (in memory by default)."""

    def __init__(self, store: AnalyticsStore | None = None) -> None:
        self.store: AnalyticsStore = store if store is not None else InMemoryAnalyticsStore()
        self._runs: OrderedDict[str, tuple[str | None, str | None]] = OrderedDict()
        self._calls: dict[str, list[ToolFact]] = {}  # a run's tool calls, written at its end
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Analytics({self.store!r})"

    def report(
        self,
        *,
        identity: str | None = None,
        everyone: bool | None = None,
        session_id: str | None = None,
        since: float | None = None,
    ) -> AnalyticsReport:
        """Everyone's facts, or one identity's (`identity=`), optionally one session's."""
        query = AnalyticsQuery(
            identity=identity,
            everyone=identity is None if everyone is None else everyone,
            session_id=session_id,
            since=since,
        )
        tools, runs = self.store.facts(query)
        return build_report(tools, runs)

    # -- run hooks ------------------------------------------------------------------

    def on_run_start(self, event: RunStarted) -> None:
        self._note(event.run_id, None, event.session_id)

    def on_run_end(self, event: RunFinished | RunFailed) -> None:
        with self._lock:
            identity, session_id = self._runs.pop(event.run_id, (None, None))
            calls = self._calls.pop(event.run_id, [])
        if isinstance(event, RunFinished):
            usage = event.result.usage
            fact = RunFact(
                time=time.time(),
                ok=True,
                identity=identity,
                session_id=session_id,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cost_usd=usage.cost_usd,
            )
        else:
            fact = RunFact(time.time(), False, identity, session_id, 0, 0, 0.0, event.error_type)
        self.store.add_run(fact, calls)

    def _note(self, run_id: str, identity: str | None, session_id: str | None) -> None:
        with self._lock:
            known = self._runs.get(run_id)
            if known is not None and identity is None:
                return
            self._runs[run_id] = (identity, session_id if known is None else known[1] or session_id)
            while len(self._runs) > _MAX_OPEN_RUNS:  # runs abandoned without an end
                stale, _ = self._runs.popitem(last=False)
                self._calls.pop(stale, None)

    # -- provider face: whose run is this -------------------------------------------

    def wrap(self, provider: Provider) -> Provider:
        return _NotingProvider(provider, self)

    def _seen(self, request: ModelRequest) -> None:
        context = request.context
        if context is not None and context.run_id:
            self._note(context.run_id, context.identity, context.session_id)

    # -- tool face ------------------------------------------------------------------

    def after_tool(self, invocation: ToolInvocation, record: ToolCallRecord) -> None:
        context = invocation.context
        fact = ToolFact(
            time=time.time(),
            tool=record.name,
            ok=record.ok,
            error_type=record.error_type,
            duration_ms=record.duration_ms,
            identity=context.identity,
            session_id=context.session_id,
        )
        with self._lock:
            if context.run_id in self._runs:  # written with its run, at the end
                self._calls.setdefault(context.run_id, []).append(fact)
                return
        self.store.add_tools([fact])  # outside a run (over MCP): nothing ends it


class _NotingProvider(ProviderWrapper):
    def __init__(self, inner: Provider, analytics: Analytics) -> None:
        super().__init__(inner)
        self.analytics = analytics

    def complete(self, request: ModelRequest) -> ModelResponse:
        self.analytics._seen(request)
        return self.inner.complete(request)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        self.analytics._seen(request)
        return await self.inner.acomplete(request)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        self.analytics._seen(request)
        return self.inner.stream(request)

    def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        self.analytics._seen(request)
        return self.inner.astream(request)
