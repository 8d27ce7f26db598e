"""`POST {prefix}/approvals/{id}` (and `/stream`): a person decides a paused run's calls.

The run goes on and is answered like `/invoke` (or streamed like `/stream`).
Only the run's identity may decide: anyone else, and any id that is not a
pending approval, gets 404 (existence is never revealed); a decision that
comes second, on this worker or another, gets 409 and runs nothing; a body
that is not a decision gets 422. A decision is one request against the rate
limit and a run against the quota.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from ..agent import Agent
from ..approval.errors import ApprovalNotFoundError
from ..bridge import run_coroutine_sync
from ..events import Event
from .admission import admission_for, used_by
from .handlers import Answer, Stream, _event_frames, admitted, admitted_sync
from .options import Caller, ServingOptions
from .wire import APPROVAL_ID_PATTERN, DecisionRequest, InvokeResponse

__all__ = ["decide", "decide_stream", "decide_stream_sync", "decide_sync"]

_APPROVAL_ID = re.compile(APPROVAL_ID_PATTERN)


def _checked_id(approval_id: str) -> str:
    """Only approval ids here (never a run or session id); anything else is unknown."""
    if not _APPROVAL_ID.match(approval_id):
        raise ApprovalNotFoundError(f"No pending approval '{approval_id[:64]}' for this caller.")
    return approval_id


async def decide(
    agent: Agent, approval_id: str, body: DecisionRequest, caller: Caller, options: ServingOptions
) -> Answer:
    """Decide and run on to the answer (or the next pause)."""
    try:
        key = _checked_id(approval_id)
        await admission_for(options).arrive(caller)  # a decision is one request
        decisions = body.to_decisions()
        result = await admitted(
            lambda: agent.aresume(key, decisions, identity=caller.identity), caller, options, None
        )
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(InvokeResponse.of(result))


def decide_sync(
    agent: Agent, approval_id: str, body: DecisionRequest, caller: Caller, options: ServingOptions
) -> Answer:
    """`decide` for WSGI views: `agent.resume` in this thread."""
    try:
        key = _checked_id(approval_id)
        admission_for(options).arrive_sync(caller)  # a decision is one request
        decisions = body.to_decisions()
        result = admitted_sync(
            lambda: agent.resume(key, decisions, identity=caller.identity), caller, options, None
        )
    except Exception as exc:
        return Answer.failure(exc)
    return Answer.of(InvokeResponse.of(result))


async def _claimed(
    agent: Agent, key: str, body: DecisionRequest, caller: Caller, options: ServingOptions
) -> AsyncIterator[Event]:
    admission = admission_for(options)
    await admission.arrive(caller)
    await admission.before_run(caller)
    try:
        return await agent.aresume_stream(key, body.to_decisions(), identity=caller.identity)
    except Exception as exc:
        await admission.after_run(caller, used_by(exc))
        raise


async def decide_stream(
    agent: Agent, approval_id: str, body: DecisionRequest, caller: Caller, options: ServingOptions
) -> Stream | Answer:
    """Decide, then stream the run's events; 404/409/422 come before the first frame."""
    try:
        events = await _claimed(agent, _checked_id(approval_id), body, caller, options)
    except Exception as exc:
        return Answer.failure(exc)
    return Stream(_event_frames(events, caller, options, None))


def decide_stream_sync(
    agent: Agent, approval_id: str, body: DecisionRequest, caller: Caller, options: ServingOptions
) -> Stream | Answer:
    """`decide_stream` for WSGI views: claimed on the bridge loop, frames from it."""
    try:
        key = _checked_id(approval_id)
        events = run_coroutine_sync(_claimed(agent, key, body, caller, options))
    except Exception as exc:
        return Answer.failure(exc)
    return Stream(_event_frames(events, caller, options, None))
