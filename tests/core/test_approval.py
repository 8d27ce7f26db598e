"""Approval in the core: a run pauses before a write, a person decides, the run goes on.

Every store keeps paused runs (memory, SQLite, PostgreSQL, Redis); each test
checks the write itself (a list the tool appends to), not only the answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any, assert_type

import pytest
from pydantic import BaseModel

from selectools import (
    Agent,
    ConversationMemory,
    Message,
    Observer,
    ScriptedProvider,
    ToolInvocation,
    call,
    tool,
)
from selectools.approval import (
    ApprovalDecidedError,
    ApprovalNotFoundError,
    ApprovalStoreError,
    Decision,
    InvalidDecisionError,
    RequireApproval,
)
from selectools.events import ApprovalDecided, ApprovalRequested, RunFinished, RunStarted
from selectools.structured import FINAL_ANSWER_TOOL

WRITES: list[tuple[str, int]] = []
_lock = threading.Lock()


@tool(requires_approval=True, writes=True)
def refund(order_id: int, amount: int = 10) -> str:
    """Refund an order."""
    with _lock:
        WRITES.append(("refund", order_id))
    return f"refunded {amount} on {order_id}"


@tool
def lookup(order_id: int) -> str:
    """Look an order up."""
    return f"order {order_id}: shipped"


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    WRITES.clear()
    yield
    WRITES.clear()


@pytest.fixture(params=["memory", "sqlite", "postgres", "redis"])
def memory(request: pytest.FixtureRequest, tmp_path: Any, unique_name: str) -> Iterator[Any]:
    """A fresh memory over each store; the factory makes another over the same data (a
    second worker, or the same one after a restart)."""
    kind = request.param
    if kind == "memory":
        made = ConversationMemory()
        yield lambda: made
        return
    if kind == "redis":
        from selectools.sessions import RedisSessionStore

        url = request.getfixturevalue("redis_url")
        yield lambda: ConversationMemory(RedisSessionStore(url, prefix=f"{unique_name}:"))
        return
    from selectools.sessions import SQLAlchemySessionStore

    url = (
        f"sqlite:///{tmp_path / 'sessions.db'}"
        if kind == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    stores: list[Any] = []

    def make() -> ConversationMemory:
        store = SQLAlchemySessionStore(url, table_prefix=f"{unique_name}_")
        stores.append(store)
        return ConversationMemory(store)

    yield make
    import sqlalchemy as sa

    for store in stores:
        store.engine.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in ("approvals", "messages", "sessions"):
            conn.execute(sa.text(f"DROP TABLE IF EXISTS {unique_name}_{table}"))
    engine.dispose()


def agent_over(memory: Any, steps: list[Any], **kwargs: Any) -> tuple[Agent, ScriptedProvider]:
    provider = ScriptedProvider(steps)
    return Agent([refund, lookup], provider, memory=memory, **kwargs), provider


def test_a_write_pauses_and_does_not_happen_until_approved(memory: Any) -> None:
    agent, _ = agent_over(memory(), [call("refund", order_id=7), "Refunded."])
    paused = agent.run("refund order 7", session_id="s1", identity="ada")
    assert paused.status == "awaiting_approval"
    assert paused.awaiting_approval
    assert WRITES == []
    assert [(p.tool, dict(p.arguments)) for p in paused.pending] == [
        ("refund", {"order_id": 7, "amount": 10})
    ]
    assert paused.approval_id
    assert paused.approval_id.startswith("apr_")
    assert "refund" in paused.text
    assert "approv" in paused.text
    assert paused.to_dict()["status"] == "awaiting_approval"

    # Another worker (or this one after a restart) takes the decision.
    other, provider = agent_over(memory(), ["Refunded."])
    done = other.resume(paused.approval_id, True, identity="ada")
    assert done.status == "completed"
    assert done.text == "Refunded."
    assert WRITES == [("refund", 7)]
    assert done.run_id == paused.run_id
    assert [r.name for r in done.tool_calls] == ["refund"]
    assert done.tool_calls[-1].ok
    # The model saw the tool's real result, answering the call it made.
    seen = provider.requests[-1].messages
    assert seen[-1].role == "tool"
    assert seen[-1].content == "refunded 10 on 7"
    assert seen[-2].tool_calls[0].name == "refund"
    # The session holds the whole turn once.
    stored = other.memory.store.load("s1")
    assert stored is not None
    assert [m.role for m in stored.messages] == ["user", "assistant", "tool", "assistant"]


def test_a_resumed_run_keeps_its_own_settings(memory: Any) -> None:
    """Before, a run's per-run config was lost at the pause: the resumed model calls went
    out with the agent's defaults (over HTTP, `/invoke`'s `config` was dropped)."""
    agent, _ = agent_over(memory(), [call("refund", order_id=7), "Refunded."])
    paused = agent.run(
        "refund order 7",
        session_id="s-config",
        identity="ada",
        config={"temperature": 0.3, "max_tokens": 50, "max_iterations": 4},
    )
    assert paused.approval_id
    assert paused.awaiting_approval

    other, provider = agent_over(memory(), ["Refunded."])  # another worker, default config
    assert other.resume(paused.approval_id, True, identity="ada").text == "Refunded."
    request = provider.requests[-1]
    assert (request.temperature, request.max_tokens) == (0.3, 50)

    second, _ = agent_over(memory(), [call("refund", order_id=8)])
    again = second.run(
        "refund order 8", session_id="s-config-2", identity="ada", config={"max_tokens": 50}
    )
    assert again.approval_id
    third, provider = agent_over(memory(), ["Refunded."])
    third.resume(again.approval_id, True, identity="ada", config={"temperature": 0.9})
    request = provider.requests[-1]
    assert (request.temperature, request.max_tokens) == (0.9, 50)  # the resume's own on top


def test_rejection_reaches_the_model_with_the_reason(memory: Any) -> None:
    agent, provider = agent_over(memory(), [call("refund", order_id=8), "I will not refund."])
    paused = agent.run("refund 8", session_id="s2", identity="ada")
    done = agent.resume("s2", Decision.reject("over the limit"), identity="ada")
    assert WRITES == []
    assert done.text == "I will not refund."
    last = provider.requests[-1].messages[-1]
    assert last.role == "tool"
    assert last.tool_call_id == paused.pending[0].id
    assert "rejected" in (last.content or "")
    assert "over the limit" in (last.content or "")
    assert done.tool_calls[-1].error_type == "rejected"


def test_only_the_owner_decides_and_a_decision_counts_once(memory: Any) -> None:
    agent, _ = agent_over(memory(), [call("refund", order_id=9), "Done."])
    paused = agent.run("refund 9", session_id="s3", identity="ada")
    assert paused.approval_id is not None
    for key in (paused.approval_id, paused.run_id, "s3"):
        with pytest.raises(ApprovalNotFoundError) as caught:
            agent.resume(key, True, identity="bob")
        assert caught.value.http_status == 404
    with pytest.raises(ApprovalNotFoundError):
        agent.resume(paused.approval_id, True)  # no identity is not the owner either
    with pytest.raises(ApprovalNotFoundError):
        agent.resume("apr_" + "0" * 32, True, identity="ada")  # forged
    assert WRITES == []
    agent.resume(paused.approval_id, True, identity="ada")
    with pytest.raises(ApprovalDecidedError) as replay:
        agent.resume(paused.approval_id, True, identity="ada")
    assert replay.value.http_status == 409
    with pytest.raises(ApprovalNotFoundError):  # by run or session: nothing pending any more
        agent.resume("s3", True, identity="ada")
    assert WRITES == [("refund", 9)]


def test_concurrent_approvals_write_once(memory: Any) -> None:
    agent, _ = agent_over(memory(), [call("refund", order_id=10), "Done."])
    paused = agent.run("refund 10", session_id="s4", identity="ada")
    workers = [agent_over(memory(), ["Done."])[0] for _ in range(6)]
    barrier = threading.Barrier(len(workers))
    outcomes: list[str] = []

    def decide(worker: Agent) -> None:
        barrier.wait(10)
        try:
            worker.resume(paused.approval_id or "", True, identity="ada")
            outcomes.append("ran")
        except ApprovalDecidedError:
            outcomes.append("409")

    threads = [threading.Thread(target=decide, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["409"] * 5 + ["ran"]
    assert WRITES == [("refund", 10)]


def test_parallel_calls_the_others_run_the_held_one_waits() -> None:
    agent, provider = agent_over(
        ConversationMemory(),
        [[call("lookup", order_id=1), call("refund", order_id=1)], "Looked and refunded."],
    )
    paused = agent.run("check and refund 1")
    assert [r.name for r in paused.tool_calls] == ["lookup"]  # ran before the pause
    assert [p.tool for p in paused.pending] == ["refund"]
    assert WRITES == []
    done = agent.resume(paused.run_id, True)
    assert WRITES == [("refund", 1)]
    assert [r.name for r in done.tool_calls] == ["lookup", "refund"]
    messages = provider.requests[-1].messages
    answered = {m.tool_call_id for m in messages if m.role == "tool"}
    assert answered == {c.id for c in messages[-3].tool_calls}  # every call answered once


def test_per_call_decisions_and_their_checks() -> None:
    agent, provider = agent_over(
        ConversationMemory(),
        [[call("refund", order_id=2), call("refund", order_id=3)], "One of two."],
    )
    paused = agent.run("refund 2 and 3")
    first, second = (p.id for p in paused.pending)
    key = paused.approval_id or ""
    with pytest.raises(InvalidDecisionError, match="no decision for"):
        agent.resume(key, {first: True})
    with pytest.raises(InvalidDecisionError, match="no pending call 'nope'"):
        agent.resume(key, {first: True, second: False, "nope": True})
    with pytest.raises(InvalidDecisionError):
        agent.resume(key, {first: True, second: "yes"})  # type: ignore[dict-item]
    with pytest.raises(InvalidDecisionError):
        agent.resume(key, "yes")  # type: ignore[arg-type]
    assert WRITES == []  # a bad decision spends nothing: the approval is still open
    done = agent.resume(key, {first: True, second: Decision.reject("duplicate")})
    assert WRITES == [("refund", 2)]
    assert [r.ok for r in done.tool_calls] == [True, False]
    assert "duplicate" in (provider.requests[-1].messages[-1].content or "")


def test_a_resumed_run_may_pause_again_with_a_new_id() -> None:
    agent, _ = agent_over(
        ConversationMemory(),
        [call("refund", order_id=4), call("refund", order_id=5), "Both done."],
    )
    first = agent.run("refund 4 then 5", session_id="s5", identity="ada")
    second = agent.resume(first.approval_id or "", True, identity="ada")
    assert second.awaiting_approval
    assert second.approval_id != first.approval_id
    assert WRITES == [("refund", 4)]
    with pytest.raises(ApprovalDecidedError):  # the old decision does not open the new pause
        agent.resume(first.approval_id or "", True, identity="ada")
    done = agent.resume("s5", True, identity="ada")
    assert done.text == "Both done."
    assert WRITES == [("refund", 4), ("refund", 5)]
    stored = agent.memory.store.load("s5")
    assert stored is not None
    assert len(stored.messages) == 6


def test_streams_and_observers_see_requests_and_decisions() -> None:
    seen: list[Any] = []

    class Watch(Observer):
        def on_approval_requested(self, event: Any) -> None:
            seen.append(event)

        def on_approval_decided(self, event: Any) -> None:
            seen.append(event)

    agent, _ = agent_over(
        ConversationMemory(), [call("refund", order_id=6), "Done."], observers=[Watch()]
    )
    events = list(agent.stream("refund 6", session_id="s6", identity="ada"))
    assert isinstance(events[-2], ApprovalRequested)
    assert isinstance(events[-1], RunFinished)
    requested = events[-2]
    assert requested.identity == "ada"
    assert requested.session_id == "s6"
    assert requested.to_dict()["type"] == "approval_required"
    assert "identity" not in (requested.to_dict())
    resumed = list(agent.resume_stream(requested.approval_id, Decision(True, "ok"), identity="ada"))
    assert isinstance(resumed[0], RunStarted)
    assert resumed[0].run_id == requested.run_id
    decided = resumed[1]
    assert isinstance(decided, ApprovalDecided)
    assert (decided.identity, decided.tool, dict(decided.arguments), decided.approved) == (
        "ada",
        "refund",
        {"order_id": 6, "amount": 10},
        True,
    )
    assert decided.reason == "ok"
    assert decided.call_id == requested.calls[0].id
    assert isinstance(resumed[-1], RunFinished)
    assert resumed[-1].result.text == "Done."
    assert [type(e).__name__ for e in seen] == ["ApprovalRequested", "ApprovalDecided"]


def test_async_pause_and_resume(memory: Any) -> None:
    async def main() -> None:
        agent, _ = agent_over(memory(), [call("refund", order_id=11), "Done."])
        paused = await agent.arun("refund 11", session_id="s7", identity="ada")
        assert paused.awaiting_approval
        assert WRITES == []
        other, _ = agent_over(memory(), ["Done."])
        results = await asyncio.gather(
            other.aresume(paused.approval_id or "", True, identity="ada"),
            other.aresume(paused.approval_id or "", True, identity="ada"),
            return_exceptions=True,
        )
        assert sorted(type(r).__name__ for r in results) == ["AgentResult", "ApprovalDecidedError"]
        assert WRITES == [("refund", 11)]
        with pytest.raises(ApprovalNotFoundError):
            await other.aresume_stream(paused.approval_id or "", True, identity="bob")

    asyncio.run(main())


class RefundDone(BaseModel):
    order_id: int
    refunded: bool


def test_a_run_paused_with_a_python_output_type_gets_it_again_on_resume(
    memory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The type cannot be stored: `resume(output_type=)` asks for it again (checked as the
    model is asked and the answer validated); without it, the text answer comes with a warning
    that names the type, never silently."""
    answer = call(FINAL_ANSWER_TOOL, order_id=11, refunded="maybe")  # invalid, then repaired
    repaired = call(FINAL_ANSWER_TOOL, order_id=11, refunded=True)
    agent, _ = agent_over(memory(), [call("refund", order_id=11), answer, repaired])
    paused = agent.run("refund 11", identity="ada", output_type=RefundDone)
    assert paused.awaiting_approval
    assert paused.approval_id is not None

    other, provider = agent_over(memory(), [answer, repaired])
    result = other.resume(paused.approval_id, True, identity="ada", output_type=RefundDone)
    assert_type(result.output, RefundDone)
    assert result.output == RefundDone(order_id=11, refunded=True)
    assert WRITES == [("refund", 11)]
    final = provider.requests[0].tools[-1]["function"]
    assert (final["name"], final["parameters"]["required"]) == (
        FINAL_ANSWER_TOOL,
        ["order_id", "refunded"],
    )
    assert len(provider.requests) == 2  # the invalid answer was sent back and repaired

    paused = agent_over(memory(), [call("refund", order_id=12)])[0].run(
        "refund 12", identity="ada", output_type=RefundDone
    )
    assert paused.approval_id is not None
    texting, _ = agent_over(memory(), ["Refunded 12."])
    with caplog.at_level("WARNING", logger="selectools.approval"):
        text = texting.resume(paused.approval_id, True, identity="ada")
    assert text.text == "Refunded 12."
    assert text.parsed is None
    assert "output_type RefundDone" in caplog.text
    assert paused.run_id in caplog.text


def test_async_resume_takes_the_output_type_too(memory: Any) -> None:
    done = RefundDone(order_id=13, refunded=True)

    async def paused_id() -> str:
        agent, _ = agent_over(memory(), [call("refund", order_id=13)])
        paused = await agent.arun("refund 13", identity="ada", output_type=RefundDone)
        assert paused.approval_id is not None
        return paused.approval_id

    def deciding() -> Agent:
        return agent_over(memory(), [call(FINAL_ANSWER_TOOL, **done.model_dump())])[0]

    async def main() -> None:
        key = await paused_id()
        result = await deciding().aresume(key, True, identity="ada", output_type=RefundDone)
        assert result.output == done
        key = await paused_id()
        events = await deciding().aresume_stream(key, True, identity="ada", output_type=RefundDone)
        finished = [e async for e in events if isinstance(e, RunFinished)]
        assert finished[0].result.parsed == done

    asyncio.run(main())


def test_require_approval_policy() -> None:
    @tool(writes=True)
    def send_email(to: str) -> str:
        """Send an email."""
        return "sent"

    @tool
    def pay(amount: int) -> str:
        """Pay."""
        return "paid"

    def big(invocation: ToolInvocation) -> bool:
        return invocation.name == "pay" and invocation.arguments["amount"] > 100

    for policy, script, held in [
        (RequireApproval(), [call("send_email", to="x@y.z"), "ok"], ["send_email"]),
        (RequireApproval(tools=["pay"]), [call("pay", amount=1), "ok"], ["pay"]),
        (RequireApproval(when=big), [call("pay", amount=500), "ok"], ["pay"]),
        (RequireApproval(when=big), [call("pay", amount=5), "ok"], []),
        (RequireApproval(tools=["pay"]), [call("send_email", to="x"), "ok"], []),
    ]:
        agent = Agent([send_email, pay], ScriptedProvider(script), policies=[policy])
        result = agent.run("go")
        assert [p.tool for p in result.pending] == held


def test_a_store_that_cannot_keep_approvals_says_so() -> None:
    class Plain:
        def load(self, session_id: str) -> Any:
            return None

        def append(self, *args: Any, **kwargs: Any) -> None: ...

    agent = Agent([refund], ScriptedProvider([call("refund", order_id=1)]))
    agent.memory = ConversationMemory(Plain())  # type: ignore[arg-type]
    with pytest.raises(ApprovalStoreError, match="cannot keep pending approvals"):
        agent.run("refund 1")
    assert WRITES == []


def test_the_tool_itself_can_still_be_called_directly() -> None:
    assert refund(1) == "refunded 10 on 1"
    assert WRITES == [("refund", 1)]
    assert refund.requires_approval
    assert lookup.requires_approval is False
    assert Message.user("x").role == "user"


def test_the_audit_log_records_the_request_the_decision_and_the_call() -> None:
    from selectools.audit import AuditLog

    records: list[Any] = []
    agent, _ = agent_over(
        ConversationMemory(),
        [[call("refund", order_id=12), call("refund", order_id=13)], "One done."],
        policies=[AuditLog(records.append)],
    )
    paused = agent.run("refund 12 and 13", identity="ada")
    assert [r.outcome for r in records] == ["awaiting_approval", "awaiting_approval"]
    first, second = (p.id for p in paused.pending)
    agent.resume(
        paused.approval_id or "", {first: True, second: Decision.reject("twice")}, identity="ada"
    )
    outcomes = [(r.outcome, r.call_id) for r in records[2:]]
    assert ("approved", first) in outcomes
    assert ("rejected", second) in outcomes
    assert ("ok", first) in outcomes  # the approved call ran and was recorded
    assert not any(o == "ok" and c == second for o, c in outcomes)
    assert {r.run_id for r in records} == {paused.run_id}
    rejected = next(r for r in records if r.outcome == "rejected")
    assert rejected.reason == "twice"
    assert rejected.identity == "ada"


def test_forgetting_a_session_withdraws_its_pending_approvals(memory: Any) -> None:
    """Deciding a forgotten session's paused run would run its write and store the
    conversation again; an approval whose id equals the session id stays untouched."""
    from selectools.approval.stores import awithdraw_session, withdraw_session

    agent, _ = agent_over(memory(), [call("refund", order_id=1), call("refund", order_id=2)])
    first = agent.run("refund 1", session_id="gone", identity="ada")
    other = agent.run("refund 2", session_id="kept", identity="ada")
    assert first.approval_id is not None
    assert other.approval_id is not None
    store = agent.memory.store
    store.delete("gone")
    assert withdraw_session(store, "gone") == 1
    assert withdraw_session(store, other.approval_id) == 0  # an id, not that session
    assert asyncio.run(awithdraw_session(store, "gone")) == 0
    with pytest.raises(ApprovalDecidedError):
        agent.resume(first.approval_id, True, identity="ada")
    assert WRITES == []
    assert store.load("gone") is None
    done = agent_over(memory(), ["Refunded."])[0].resume(other.approval_id, True, identity="ada")
    assert done.status == "completed"
    assert WRITES == [("refund", 2)]


def test_may_pause_knows_which_agents_can_wait_for_a_person() -> None:
    from selectools.approval.flow import may_pause

    assert may_pause([refund, lookup], [])
    assert not may_pause([lookup], [])
    assert may_pause([lookup], [RequireApproval(tools=["lookup"])])


def test_deleting_a_session_of_an_agent_that_never_pauses_touches_no_approval_store(
    tmp_path: Any,
) -> None:
    """Withdrawing approvals on DELETE must not create the approvals table for an app
    that has none (a database user without CREATE, a store that cannot keep them)."""
    import sqlalchemy as sa
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from selectools.sessions import SQLAlchemySessionStore
    from selectools_fastapi import AgentRouter

    url = f"sqlite:///{tmp_path / 's.db'}"
    agent = Agent(
        [lookup], ScriptedProvider(["hi"]), memory=ConversationMemory(SQLAlchemySessionStore(url))
    )
    agent.run("hello", session_id="s1")
    tables = set(sa.inspect(sa.create_engine(url)).get_table_names())
    app = FastAPI()
    app.include_router(AgentRouter(agent), prefix="/agent")
    assert TestClient(app).delete("/agent/sessions/s1").status_code == 204
    assert set(sa.inspect(sa.create_engine(url)).get_table_names()) == tables
