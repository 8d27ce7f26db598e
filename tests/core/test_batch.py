"""Agent.batch / abatch: order, failures, bounds, shared limits, progress, resuming after a kill."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from selectools import Agent, AgentResult, ModelRequest, QuotaExceededError, ScriptedProvider
from selectools.batch import BatchProgress, FileCheckpoint
from selectools.errors import ProviderAuthError
from selectools.policies import Quota, RateLimiter


def echo(request: ModelRequest) -> str:
    prompt = request.messages[-1].content or ""
    if prompt == "boom":
        raise ProviderAuthError("The model server rejected the API key (HTTP 401).")
    return f"echo {prompt}"


class Counting(ScriptedProvider):
    """Echoes the prompt; counts calls and the most calls in flight at once."""

    def __init__(self, latency: float = 0.0, delays: dict[str, float] | None = None) -> None:
        super().__init__(responder=echo, latency=latency, model="gpt-4o-mini")  # priced
        self.delays = delays or {}
        self.calls = 0
        self.in_flight = 0
        self.peak = 0

    async def acomplete(self, request: ModelRequest):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delays.get(request.messages[-1].content or "", 0.0))
            return await super().acomplete(request)
        finally:
            self.in_flight -= 1


async def test_outcomes_come_in_input_order_and_one_failure_sinks_nothing() -> None:
    # the first inputs finish last: order must come from the index, not from completion
    provider = Counting(delays={"0": 0.15, "1": 0.1, "2": 0.05})
    agent = Agent(provider=provider)
    results = await agent.abatch(["0", "1", "boom", "2", "3"], concurrency=5)
    assert [r.text if isinstance(r, AgentResult) else "error" for r in results] == [
        "echo 0",
        "echo 1",
        "error",
        "echo 2",
        "echo 3",
    ]
    assert isinstance(results[2], ProviderAuthError)
    assert list(results.errors) == [2]
    assert len(results.succeeded) == 4
    assert results.usage.requests == 4


async def test_concurrency_is_bounded_and_used() -> None:
    provider = Counting(latency=0.02)
    results = await Agent(provider=provider).abatch([str(i) for i in range(40)], concurrency=6)
    assert provider.peak == 6
    assert provider.calls == 40
    assert [r.text for r in results.succeeded] == [f"echo {i}" for i in range(40)]


def test_sync_batch_works_inside_a_running_loop() -> None:
    async def inside() -> list[str]:
        results = Agent(provider=Counting()).batch(["a", "b"], concurrency=2)
        return [r.text for r in results.succeeded]

    assert asyncio.run(inside()) == ["echo a", "echo b"]


async def test_a_shared_rate_limit_slows_the_batch_instead_of_failing_items(
    unique_name: str,
) -> None:
    limiter = RateLimiter("10/second", namespace=unique_name)
    limiter.hit("batch", "-")  # someone else sharing the limit already used one
    start = time.monotonic()
    results = await Agent(provider=Counting()).abatch(
        [str(i) for i in range(15)], concurrency=15, rate_limit=limiter
    )
    assert len(results.succeeded) == 15  # nobody failed: they waited their turn
    assert time.monotonic() - start >= 0.8  # 9 left in the first second, 6 in the next


async def test_a_quota_stops_the_runs_that_would_go_over_budget(unique_name: str) -> None:
    quota = Quota(tokens_per_day=30, namespace=unique_name)
    results = await Agent(provider=Counting()).abatch(
        [f"prompt {i}" for i in range(10)], concurrency=1, quota=quota, identity="ada"
    )
    spent = quota.used("ada").tokens
    assert spent >= 30
    assert 0 < len(results.succeeded) < 10
    refused = list(results.errors.values())
    assert refused
    assert all(isinstance(e, QuotaExceededError) for e in refused)
    assert results.usage.total_tokens == spent  # the quota saw exactly what ran
    assert quota.used("bob").tokens == 0  # charged to the batch's identity only


async def test_progress_reports_counts_tokens_and_cost() -> None:
    seen: list[BatchProgress] = []
    results = await Agent(provider=Counting()).abatch(
        ["a", "boom", "c"], concurrency=1, on_progress=seen.append
    )
    assert [p.done for p in seen] == [1, 2, 3]
    assert seen[-1].failed == 1
    assert seen[-1].usage == results.usage
    assert seen[-1].usage.total_tokens > 0


async def test_asked_for_progress_bar_shows_rate_tokens_and_cost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await Agent(provider=Counting()).abatch(["a", "b"], progress=True)
    err = capsys.readouterr().err
    assert "2/2" in err
    assert "run/s" in err
    assert "tokens" in err
    assert "$" in err


async def test_no_bar_when_not_on_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    await Agent(provider=Counting()).abatch(["a", "b"])  # progress=None: only on a terminal
    assert capsys.readouterr().err == ""


CHILD = textwrap.dedent(
    """
    import sys
    from selectools import Agent, ScriptedProvider

    def echo(request):
        return "echo " + request.messages[-1].content

    agent = Agent(provider=ScriptedProvider(responder=echo, latency=0.05))
    agent.batch([f"item {i}" for i in range(200)], concurrency=4, checkpoint=sys.argv[1])
    """
)


def test_a_killed_batch_resumes_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.exists() and path.read_text().count("\n") >= 12:
                break
            time.sleep(0.02)  # polling a file another process writes
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)
    finished = FileCheckpoint(path).load()
    assert 12 <= len(finished) < 200, "the child must die mid-batch"
    with path.open("a") as torn:  # a line cut short by the kill must not count
        torn.write('{"index": 199, "key": "')

    provider = Counting()
    inputs = [f"item {i}" for i in range(200)]
    results = Agent(provider=provider).batch(inputs, concurrency=8, checkpoint=path)
    assert provider.calls == 200 - len(finished)  # finished items never ran again
    assert [r.text for r in results] == [f"echo item {i}" for i in range(200)]  # type: ignore[union-attr]
    restored = results[min(finished)]
    assert isinstance(restored, AgentResult)
    assert [m.role for m in restored.messages] == ["user", "assistant"]
    assert restored.usage.total_tokens > 0
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.endswith("}")]
    assert len({x["index"] for x in lines}) == 200


async def test_a_checkpoint_never_answers_a_different_input(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    await Agent(provider=Counting()).abatch(["a", "b"], checkpoint=path)
    provider = Counting()
    results = await Agent(provider=provider).abatch(["a", "changed"], checkpoint=str(path))
    assert provider.calls == 1
    assert [r.text for r in results.succeeded] == ["echo a", "echo changed"]


async def test_failed_items_run_again_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    first = await Agent(provider=Counting()).abatch(["a", "boom"], checkpoint=path)
    assert list(first.errors) == [1]
    provider = Counting()
    await Agent(provider=provider).abatch(["a", "boom"], checkpoint=path)
    assert provider.calls == 1  # only the failed one


def test_progress_true_without_tqdm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=r"\.\[batch\]"):
        Agent(provider=Counting()).batch(["a"], progress=True)


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Agent(provider=Counting()).batch(["a"], concurrency=0)
