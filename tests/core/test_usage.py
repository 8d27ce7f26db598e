"""Usage adds up per run and per agent; cost comes from the price table or is None."""

from __future__ import annotations

import pytest

from selectools import Agent, ScriptedProvider, Usage, call, tool
from selectools.usage import estimate_cost


def test_known_model_has_a_positive_cost() -> None:
    cost = estimate_cost("gpt-4o-mini", 1_000_000, 0, provider_id="openai")
    assert cost is not None
    assert 0.01 < cost < 10  # per million input tokens: cents to dollars, not zero


def test_unknown_model_cost_is_none_not_zero() -> None:
    assert estimate_cost("my-local-finetune-xyz", 100, 100) is None


def test_zero_tokens_cost_nothing() -> None:
    assert estimate_cost("anything", 0, 0) == 0.0


def test_unknown_cost_poisons_the_sum() -> None:
    total = Usage(1, 1, 1, 0.5) + Usage(2, 2, 1, None)
    assert total == Usage(3, 3, 2, None)
    assert Usage(1, 2, 1, 0.25) + Usage(1, 1, 1, 0.25) == Usage(2, 3, 2, 0.5)


@tool
def noop() -> str:
    """Do nothing."""
    return ""


def test_run_and_agent_totals_with_a_priced_model() -> None:
    provider = ScriptedProvider([call("noop"), "done"], cycle=True, model="gpt-4o-mini")
    agent = Agent([noop], provider)
    first = agent.run("go")
    second = agent.run("go again")
    assert first.usage.requests == 2
    assert first.cost_usd is not None
    assert first.cost_usd > 0
    assert agent.usage.requests == 4
    assert agent.usage.cost_usd == pytest.approx(first.cost_usd + (second.cost_usd or 0))
    assert agent.usage.input_tokens == first.usage.input_tokens + second.usage.input_tokens


def test_agent_totals_count_every_run_from_many_threads_while_being_read() -> None:
    import threading

    from selectools.usage import UsageTotals

    totals = UsageTotals()
    runs_per_thread = 3000  # more than one fold's worth (1,024) per thread
    seen: list[int] = []

    def finish_runs() -> None:
        for _ in range(runs_per_thread):
            totals.add(Usage(input_tokens=2, output_tokens=1, requests=1))

    def read_while_running() -> None:
        while any(t.is_alive() for t in writers):
            seen.append(totals.usage.requests)

    writers = [threading.Thread(target=finish_runs) for _ in range(4)]
    reader = threading.Thread(target=read_while_running)
    for thread in writers:
        thread.start()
    reader.start()
    for thread in writers:
        thread.join()
    reader.join()
    assert totals.runs == 4 * runs_per_thread
    assert totals.usage == Usage(input_tokens=24_000, output_tokens=12_000, requests=12_000)
    assert seen == sorted(seen)  # a reader never sees the total go back
