"""Agent.batch throughput and memory: 1,000 inputs, a scripted 50 ms model, concurrency 32.

The ideal is 1,000 x 50 ms / 32 = 1.5625 s (every slot always busy, zero
overhead); the batch must finish within 1.3x of it. Memory must stay flat:
the pool keeps `concurrency` runs in flight, never one task per input, so
the peak (tracemalloc) grows with the results kept and nothing else, and
nothing stays behind once the results are dropped. Run:
`python benchmarks/batch_throughput.py` (exit status 1 when a goal is missed).
"""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from selectools import Agent, ScriptedProvider

ITEMS = 1_000
LATENCY = 0.050
CONCURRENCY = 32
IDEAL = ITEMS * LATENCY / CONCURRENCY
GOAL = 1.3
REPEATS = 3


def agent() -> Agent:
    model = ScriptedProvider(responder=lambda r: "ok", latency=LATENCY, keep_requests=0)
    return Agent(provider=model)


def inputs(n: int) -> list[str]:
    return [f"row {i}: summarise this ticket" for i in range(n)]


def timed() -> float:
    bot = agent()
    started = time.perf_counter()
    results = bot.batch(inputs(ITEMS), concurrency=CONCURRENCY, progress=False)
    elapsed = time.perf_counter() - started
    assert len(results.succeeded) == ITEMS
    return elapsed


def memory(n: int) -> tuple[float, float, float]:
    """(peak KiB, KiB kept by the results, KiB left after dropping them) for `n` inputs."""
    bot = agent()
    bot.batch(inputs(8), concurrency=CONCURRENCY, progress=False)  # warm caches and imports
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    results = bot.batch(inputs(n), concurrency=CONCURRENCY, progress=False)
    gc.collect()
    kept, peak = tracemalloc.get_traced_memory()
    del results
    gc.collect()
    left = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (peak - base) / 1024, (kept - base) / 1024, (left - base) / 1024


def main() -> int:
    elapsed = statistics.median(timed() for _ in range(REPEATS))
    ratio = elapsed / IDEAL
    print(f"{ITEMS} inputs, {LATENCY * 1000:.0f} ms model, concurrency {CONCURRENCY}")
    print(f"  ideal {IDEAL:.3f} s, measured {elapsed:.3f} s (median of {REPEATS}): {ratio:.2f}x")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    small_peak, small_kept, _ = memory(ITEMS // 4)
    big_peak, big_kept, big_left = memory(ITEMS)
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    items = ITEMS - ITEMS // 4
    per_item_peak = (big_peak - small_peak) / items
    per_item_kept = (big_kept - small_kept) / items
    beyond = per_item_peak - per_item_kept
    print(f"  peak growth per item {per_item_peak:.2f} KiB, of which results {per_item_kept:.2f}")
    print(f"  beyond the results: {beyond:.2f} KiB per item")
    print(f"  left after dropping {ITEMS} results: {big_left:.1f} KiB")
    print(f"  max RSS grew {(rss_after - rss_before) / 1024:.1f} MiB over both memory runs")
    ok = ratio <= GOAL and beyond <= 0.25 * per_item_kept + 0.5 and big_left < 256
    print("goals met" if ok else "GOAL MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
