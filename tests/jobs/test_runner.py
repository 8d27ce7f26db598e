"""The job runner: finished items are never run again, journaled writes are never repeated."""

from __future__ import annotations

import asyncio
import time

import pytest

from selectools import Agent, ModelRequest, Reply, ScriptedProvider, call, tool
from selectools.jobs import InMemoryJobStore, JobRecord, execute_job
from selectools.jobs.runner import JobBusyError

WRITES: list[str] = []


@tool(writes=True)
def save_note(text: str) -> str:
    """Save a note (a write: it must happen once per job step)."""
    WRITES.append(text)
    return f"saved {text}"


def respond(request: ModelRequest) -> Reply | str:
    last = request.messages[-1]
    if last.role == "tool":
        return f"done: {last.content}"
    return Reply(calls=(call("save_note", text=last.content or ""),))


def job(store: InMemoryJobStore, *prompts: str) -> str:
    record = JobRecord(id="a" * 32, owner="ada", inputs=tuple({"input": p} for p in prompts))
    store.create(record)
    return record.id


async def test_a_retried_job_replays_completed_writes_instead_of_running_them() -> None:
    WRITES.clear()
    store = InMemoryJobStore()
    job_id = job(store, "note one")
    slow_answer = ScriptedProvider(responder=respond, latency=0.3)
    first = asyncio.create_task(
        execute_job(Agent([save_note], slow_answer), store, job_id, holder="w1")
    )
    while not any(name == "step_recorded" for _, name, _ in store.events(job_id)):  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # watching another task's progress in the store
    first.cancel()  # the worker dies while the model writes its answer
    with pytest.raises(asyncio.CancelledError):
        await first
    assert WRITES == ["note one"]
    assert store.items(job_id) == {}  # the item had not finished

    agent = Agent([save_note], ScriptedProvider(responder=respond))
    assert await execute_job(agent, store, job_id, holder="w2") == "succeeded"
    assert WRITES == ["note one"]  # not written again
    (item,) = store.items(job_id).values()
    assert item["result"]["output"] == "done: saved note one"
    names = [name for _, name, _ in store.events(job_id)]
    assert "step_replayed" in names
    assert names[-1] == "job_finished"


async def test_a_finished_job_is_not_run_again() -> None:
    WRITES.clear()
    store = InMemoryJobStore()
    job_id = job(store, "x", "y")
    agent = Agent([save_note], ScriptedProvider(responder=respond))
    assert await execute_job(agent, store, job_id, holder="w1") == "succeeded"
    assert await execute_job(agent, store, job_id, holder="w2") == "succeeded"
    assert sorted(WRITES) == ["x", "y"]


async def test_the_same_write_twice_in_one_item_runs_twice() -> None:
    """The journal counts repeats: a second identical call is a new step, not a replay."""
    WRITES.clear()
    store = InMemoryJobStore()
    job_id = job(store, "twice")
    script = ScriptedProvider(
        [call("save_note", text="n"), call("save_note", text="n"), "ok"], cycle=False
    )
    assert await execute_job(Agent([save_note], script), store, job_id, holder="w") == "succeeded"
    assert WRITES == ["n", "n"]


async def test_a_leased_job_is_not_run_by_a_second_worker() -> None:
    store = InMemoryJobStore()
    job_id = job(store, "x")
    assert store.claim(job_id, "w1", ttl=30)
    with pytest.raises(JobBusyError):
        await execute_job(
            Agent([save_note], ScriptedProvider(responder=respond)), store, job_id, holder="w2"
        )
    assert store.state(job_id).status == "queued"  # type: ignore[union-attr]


def test_in_process_jobs_past_the_limit_wait_queued() -> None:
    import threading

    from selectools.jobs import InProcessExecutor

    release = threading.Event()

    @tool
    def hold() -> str:
        """Wait until the test lets go."""
        release.wait(10)
        return "held"

    def script(request: ModelRequest) -> Reply | str:
        return "ok" if request.messages[-1].role == "tool" else Reply(calls=(call("hold"),))

    store = InMemoryJobStore()
    executor = InProcessExecutor(max_running=2)
    agent = Agent([hold], ScriptedProvider(responder=script))
    ids = []
    for n in range(3):
        record = JobRecord(id=f"{n:032x}", owner=None, inputs=({"input": "x"},))
        store.create(record)
        executor.submit(agent, store, record.id)
        ids.append(record.id)
    deadline = time.monotonic() + 10
    while [store.state(i).status for i in ids[:2]] != ["running", "running"]:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert store.state(ids[2]).status == "queued"  # type: ignore[union-attr]
    release.set()
    while store.state(ids[2]).status != "succeeded":  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.01)


async def test_two_deliveries_of_one_job_run_it_once() -> None:
    """A duplicate delivery (a short visibility timeout, a retry) finds the lease taken."""
    WRITES.clear()
    store = InMemoryJobStore()
    job_id = job(store, "dup")
    agent = Agent([save_note], ScriptedProvider(responder=respond, latency=0.05))
    outcomes = await asyncio.gather(
        execute_job(agent, store, job_id, holder="host:task-1:a"),
        execute_job(agent, store, job_id, holder="host:task-1:b"),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["JobBusyError", "str"]
    assert WRITES == ["dup"]
    assert [n for _, n, _ in store.events(job_id)].count("job_finished") == 1
