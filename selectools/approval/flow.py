"""Pausing a run for approval and resuming it: the steps the loop and the agent take.

When the model calls tools, `hold` sets aside the calls that need approval;
the others run as usual. If any were held, `pause` stores the run's state
with the pending calls and ends the run with status "awaiting_approval".
`resume` (sync or async) finds the record, checks the owner and the
decisions, claims the record atomically (so a decision delivered twice, or
to two workers at once, runs the approved calls once), and rebuilds the run:
approved calls go back through the normal calling path, rejected ones
become tool results that tell the model a person said no, and why.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..config import AgentConfig
from ..events import ApprovalDecided, ApprovalRequested, RunFinished, RunStarted
from ..frozen import record
from ..messages import Message, ToolCall
from ..results import PendingCall, ToolCallRecord
from ..tools.calling import ToolInvocation, prepare

if TYPE_CHECKING:
    from ..loop import Run, RunSetup
    from ..tools.tool import Tool
    from .errors import ApprovalDecidedError
    from .records import Decision, Decisions, PendingApproval
    from .stores import ApprovalStore

# The loop imports this module for `hold`, which every model turn with tool calls
# passes; the records, stores and errors load only when a run pauses or resumes.

__all__ = [
    "Resumption",
    "approval_message",
    "hold",
    "may_pause",
    "needs_approval",
    "pause",
    "pause_sync",
    "resume",
    "resume_sync",
]

Batch = list[ToolInvocation | ToolCallRecord]


@record
class Resumption:
    """A decided approval, ready for the loop: events to announce, then the batch to run."""

    events: tuple[RunStarted | ApprovalDecided, ...]
    batch: Batch
    output_schema: Mapping[str, Any] | None = None  # the JSON Schema the answer must fit
    output_type_name: str | None = None  # the Python output type the run asked for, by name


def needs_approval(invocation: ToolInvocation, policies: Sequence[object]) -> bool:
    """The tool says so (`requires_approval`), or a policy's `needs_approval` does."""
    if invocation.tool.requires_approval:
        return True
    for chain in (policies, invocation.tool.policies):
        for policy in chain:
            check = getattr(policy, "needs_approval", None)
            if check is not None and check(invocation):
                return True
    return False


def may_pause(tools: Iterable[Tool], policies: Sequence[object]) -> bool:
    """Whether a run with these tools and policies can ever wait for a person."""
    listed = list(tools)
    if any(tool.requires_approval for tool in listed):
        return True
    chains = (policies, *(tool.policies for tool in listed))
    return any(hasattr(policy, "needs_approval") for chain in chains for policy in chain)


def hold(batch: Batch, policies: Sequence[object]) -> tuple[Batch, list[ToolInvocation]]:
    """Split a model turn's calls into those to run now and those waiting for a person."""
    runnable: Batch = []
    waiting: list[ToolInvocation] = []
    for item in batch:
        if isinstance(item, ToolInvocation) and needs_approval(item, policies):
            waiting.append(item)
        else:
            runnable.append(item)
    return runnable, waiting


# -- pausing ---------------------------------------------------------------------------


def _record_of(run: Run, waiting: list[ToolInvocation]) -> PendingApproval:
    from .records import PendingApproval, new_approval_id

    new = run.new_messages
    context = run.window
    state = {
        "input": [m.to_dict() for m in run.input_messages],
        "context": [m.to_dict() for m in context],
        "new": [m.to_dict() for m in new],
        "records": [r.to_dict() for r in run.records],
        "iterations": run.iterations,
        "model": run.model,
        "provider": run.provider,
        "metadata": json.loads(json.dumps(dict(run.context.metadata), default=str)),
        "raw_arguments": {i.call.id: i.call.arguments for i in waiting},
        "summary": _summary_of(run),
        "config": dataclasses.asdict(run.config),  # the run's own, per-run overrides included
        **_output_of(run),
    }
    calls = tuple(
        PendingCall(i.call.id, i.call.name, json.loads(json.dumps(dict(i.arguments), default=str)))
        for i in waiting
    )
    return PendingApproval(
        id=new_approval_id(),
        run_id=run.run_id,
        session_id=run.session_id,
        identity=run.identity,
        calls=calls,
        state=state,
        created_at=time.time(),
    )


def _output_of(run: Run) -> dict[str, Any]:
    """What the run's answer must fit: a JSON Schema is stored; a Python output type
    cannot be, so its name is (resuming asks for the type again: `resume(output_type=)`)."""
    from ..structured import StructuredOutput

    provider = run.setup.provider
    if not isinstance(provider, StructuredOutput):
        return {"output_schema": None}
    if provider.spec.raw_schema is not None:
        return {"output_schema": dict(provider.spec.raw_schema)}
    return {"output_schema": None, "output_type": provider.spec.name}


def _summary_of(run: Run) -> dict[str, Any] | None:
    """A summary the window wrote at the start of the run; the session stores it at the end."""
    summary = getattr(run, "summary_record", None)
    return summary.to_dict() if isinstance(summary, Message) else None


def approval_message(calls: Sequence[PendingCall]) -> str:
    """What a person reads in place of an answer (the OpenAI-compatible route shows it)."""
    listed = "; ".join(
        f"{c.tool}({json.dumps(dict(c.arguments), ensure_ascii=False, default=str)})" for c in calls
    )
    return (
        f"Waiting for approval: the agent wants to call {listed}. Nothing was done yet; "
        f"approve or reject to continue."
    )


def _paused(run: Run, record: PendingApproval) -> tuple[ApprovalRequested, RunFinished]:
    result = dataclasses.replace(
        run.result(),
        text=approval_message(record.calls),
        status="awaiting_approval",
        pending=record.calls,
        approval_id=record.id,
    )
    run.setup.totals.add(result.usage)
    requested = ApprovalRequested(run.run_id, run.session_id, run.identity, record.id, record.calls)
    return requested, RunFinished(run.run_id, result)


def pause_sync(run: Run, waiting: list[ToolInvocation]) -> tuple[ApprovalRequested, RunFinished]:
    """Store the paused run; the events that end it."""
    from .stores import approval_store_for

    record = _record_of(run, waiting)
    approval_store_for(run.setup.memory.store).save(record)
    return _paused(run, record)


async def pause(run: Run, waiting: list[ToolInvocation]) -> tuple[ApprovalRequested, RunFinished]:
    from .stores import approval_store_for

    record = _record_of(run, waiting)
    await approval_store_for(run.setup.memory.store).asave(record)
    return _paused(run, record)


# -- resuming --------------------------------------------------------------------------


def _checked(
    record: PendingApproval | None, key: str, identity: str | None, decisions: Decisions
) -> tuple[PendingApproval, dict[str, Decision]]:
    from .errors import ApprovalDecidedError, ApprovalNotFoundError

    if record is None or not record.allows(identity):
        # Someone else's approval looks exactly like a missing one.
        raise ApprovalNotFoundError(f"No pending approval '{key}' for this caller.")
    if not record.pending:
        raise ApprovalDecidedError(
            f"Approval '{record.id}' was already decided; its calls ran or were refused then. "
            f"Read the session for the outcome."
        )
    return record, record.decisions_for(decisions)


def _lost(record: PendingApproval) -> ApprovalDecidedError:
    from .errors import ApprovalDecidedError

    return ApprovalDecidedError(
        f"Approval '{record.id}' was decided by another request at the same time; "
        f"its calls run there."
    )


def resume_sync(
    setup: RunSetup,
    config: AgentConfig,
    key: str,
    decisions: Decisions,
    identity: str | None,
    *,
    overrides: AgentConfig | Mapping[str, Any] | None = None,
) -> tuple[Run, Resumption]:
    """Claim the approval `key` (an approval id, run id or session id) and rebuild its run.

    The run goes on with the settings it paused with (`config` for a record
    that predates them), then `overrides`, the resume's own.
    """
    from .stores import approval_store_for

    store: ApprovalStore = approval_store_for(setup.memory.store)
    record, chosen = _checked(store.find(key), key, identity, decisions)
    if not store.take(record.id):
        raise _lost(record)
    return _restore(setup, _run_config(record, config, overrides), record, chosen, identity)


async def resume(
    setup: RunSetup,
    config: AgentConfig,
    key: str,
    decisions: Decisions,
    identity: str | None,
    *,
    overrides: AgentConfig | Mapping[str, Any] | None = None,
) -> tuple[Run, Resumption]:
    from .stores import approval_store_for

    store: ApprovalStore = approval_store_for(setup.memory.store)
    record, chosen = _checked(await store.afind(key), key, identity, decisions)
    if not await store.atake(record.id):
        raise _lost(record)
    return _restore(setup, _run_config(record, config, overrides), record, chosen, identity)


def _run_config(
    record: PendingApproval,
    config: AgentConfig,
    overrides: AgentConfig | Mapping[str, Any] | None,
) -> AgentConfig:
    paused = record.state.get("config")
    chosen = AgentConfig(**paused) if isinstance(paused, dict) else config
    if overrides is None:
        return chosen
    return chosen.merged(overrides if isinstance(overrides, AgentConfig) else dict(overrides))


def _messages(data: Any) -> list[Message]:
    return [Message.from_dict(m) for m in data]


def _restore(
    setup: RunSetup,
    config: AgentConfig,
    record: PendingApproval,
    chosen: Mapping[str, Decision],
    decider: str | None,
) -> tuple[Run, Resumption]:
    from ..loop import Run

    state = record.state
    run = Run(
        setup,
        _messages(state["input"]),
        session_id=record.session_id,
        identity=record.identity,
        metadata=state.get("metadata") or {},
        config=config,
    )
    run.run_id = record.run_id  # the same run, going on: audit logs join on it
    run.context = dataclasses.replace(run.context, run_id=record.run_id)
    run.new_messages = _messages(state["new"])
    run.window = tuple(_messages(state["context"]))
    run.records = [_record(r) for r in state["records"]]
    run.iterations = int(state["iterations"])
    run.model = str(state["model"])
    run.provider = str(state["provider"])
    if state.get("summary") is not None and hasattr(run, "summary_record"):
        run.summary_record = Message.from_dict(state["summary"])
    raw = state["raw_arguments"]
    events: list[RunStarted | ApprovalDecided] = [RunStarted(run.run_id, run.session_id)]
    batch: Batch = []
    for call in record.calls:
        decision = chosen[call.id]
        events.append(
            ApprovalDecided(
                run.run_id,
                run.session_id,
                decider,
                call.id,
                call.tool,
                call.arguments,
                decision.approved,
                decision.reason,
                record.id,
            )
        )
        tool_call = ToolCall(call.id, call.tool, raw[call.id])
        if decision.approved:
            batch.append(prepare(setup.tools.tools, tool_call, run.context))
        else:
            batch.append(_rejected(tool_call, call, decision.reason))
    output = (state.get("output_schema"), state.get("output_type"))
    return run, Resumption(tuple(events), batch, *output)


def _rejected(tool_call: ToolCall, call: PendingCall, reason: str | None) -> ToolCallRecord:
    why = f" Their reason: {reason.strip().rstrip('.')}." if reason else " They gave no reason."
    message = (
        f"A person rejected this call of '{call.tool}'; it did not run.{why} "
        f"Do not call it again unless the user asks; tell the user instead."
    )
    return ToolCallRecord(
        id=tool_call.id,
        name=tool_call.name,
        raw_arguments=tool_call.arguments,
        arguments=call.arguments,
        output=f"Error: {message}",
        error=message,
        error_type="rejected",
    )


def _record(data: Mapping[str, Any]) -> ToolCallRecord:
    return ToolCallRecord(
        id=data["id"],
        name=data["name"],
        raw_arguments=data["raw_arguments"],
        arguments=data["arguments"],
        output=data["output"],
        error=data["error"],
        error_type=data["error_type"],
        duration_ms=float(data["duration_ms"]),
        cached=bool(data.get("cached", False)),
    )
