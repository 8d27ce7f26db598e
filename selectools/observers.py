"""Observers: hooks into a run for logging, tracing and metrics that can never break it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterable
from typing import Any

from .bridge import run_coroutine_sync
from .errors import refuse_class

__all__ = ["HOOKS", "Observer", "ObserverHub", "checked_observers"]

HOOKS = (
    "on_run_start",
    "on_llm_start",
    "on_llm_end",
    "on_tool_start",
    "on_tool_end",
    "on_tool_error",
    "on_run_end",
    "on_approval_requested",
    "on_approval_decided",
)


class Observer:
    """Subclass and override any hook; each may be sync or `async def`.

    Hooks receive the event object (see `selectools.events`); `on_run_end`
    receives RunFinished or RunFailed. `on_approval_requested` receives
    ApprovalRequested when a run pauses for approval, `on_approval_decided` one
    ApprovalDecided per call when it is approved or rejected. An exception in a
    hook is logged and ignored.
    """

    def on_run_start(self, event: Any) -> Awaitable[None] | None: ...
    def on_llm_start(self, event: Any) -> Awaitable[None] | None: ...
    def on_llm_end(self, event: Any) -> Awaitable[None] | None: ...
    def on_tool_start(self, event: Any) -> Awaitable[None] | None: ...
    def on_tool_end(self, event: Any) -> Awaitable[None] | None: ...
    def on_tool_error(self, event: Any) -> Awaitable[None] | None: ...
    def on_run_end(self, event: Any) -> Awaitable[None] | None: ...
    def on_approval_requested(self, event: Any) -> Awaitable[None] | None: ...
    def on_approval_decided(self, event: Any) -> Awaitable[None] | None: ...


def checked_observers(observers: Iterable[object]) -> tuple[object, ...]:
    """`observers` as a tuple, each one an observer: a class where its instance belongs,
    or an object with none of the `HOOKS`, would otherwise never be called."""
    checked = tuple(observers)
    for observer in checked:
        refuse_class(observer, "an observer", owner="Agent")
        if not any(hasattr(observer, hook) for hook in HOOKS):
            raise TypeError(
                f"Agent got {observer!r:.100} as an observer, which has none of the hooks "
                f"({', '.join(HOOKS)}); subclass selectools.Observer."
            )
    return checked


class ObserverHub:
    """Calls every observer's hook, awaiting async ones and swallowing (logging) failures."""

    def __init__(self, observers: Iterable[object] = ()) -> None:
        self._observers = tuple(observers)

    def __bool__(self) -> bool:
        return bool(self._observers)

    def emit(self, hook: str, event: Any) -> None:
        if not self._observers:
            return
        for observer in self._observers:
            outcome = self._call(observer, hook, event)
            if inspect.isawaitable(outcome):
                try:
                    run_coroutine_sync(_await(outcome))
                except Exception:
                    _log_failure(observer, hook)

    async def aemit(self, hook: str, event: Any) -> None:
        if not self._observers:
            return
        for observer in self._observers:
            outcome = self._call(observer, hook, event)
            if inspect.isawaitable(outcome):
                try:
                    await outcome
                except Exception:
                    _log_failure(observer, hook)

    @staticmethod
    def _call(observer: object, hook: str, event: Any) -> Any:
        method = getattr(observer, hook, None)
        if method is None:
            return None
        try:
            return method(event)
        except Exception:
            _log_failure(observer, hook)
            return None


def _log_failure(observer: object, hook: str) -> None:
    """Log the exception being handled (called from an `except` block)."""
    import logging  # only on a failure: `import selectools` stays without logging

    logging.getLogger("selectools.observers").exception("observer %r failed in %s", observer, hook)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
