"""`GET {prefix}/sessions`: the caller's own sessions, for the playground's list.

Only sessions owned by the caller's identity are listed; an anonymous caller
gets none (sessions without an owner may be anyone's). A store that cannot
list (`SessionLister`) answers `listed: false`, and the page falls back to
the sessions it started itself.
"""

from __future__ import annotations

from ..agent import Agent
from ..sessions.base import SessionLister, SessionSummary
from .handlers import Answer
from .options import Caller
from .wire_pages import SessionListResponse, SessionSummaryOut

__all__ = ["LIST_LIMIT", "list_sessions", "list_sessions_sync"]

LIST_LIMIT = 50


def _answer(summaries: list[SessionSummary] | None) -> Answer:
    if summaries is None:
        return Answer.of(SessionListResponse(sessions=[], listed=False))
    listed = [SessionSummaryOut.of(s) for s in summaries]
    return Answer.of(SessionListResponse(sessions=listed, listed=True))


async def list_sessions(agent: Agent, caller: Caller) -> Answer:
    store = agent.memory.store
    if caller.identity is None or not isinstance(store, SessionLister):
        return _answer(None)
    try:
        return _answer(await store.alist_owned(caller.identity, LIST_LIMIT))
    except Exception as exc:
        return Answer.failure(exc)


def list_sessions_sync(agent: Agent, caller: Caller) -> Answer:
    store = agent.memory.store
    if caller.identity is None or not isinstance(store, SessionLister):
        return _answer(None)
    try:
        return _answer(store.list_owned(caller.identity, LIST_LIMIT))
    except Exception as exc:
        return Answer.failure(exc)
