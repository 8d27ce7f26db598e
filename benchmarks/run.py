"""Benchmarks against peers, side by side, in one run on one machine.

One command: `python benchmarks/run.py`. It builds benchmarks' own virtualenv
(.bench-venv: selectools plus the peers in requirements-peers.txt, never in
selectools' dependencies), re-runs itself there, prints one markdown table and
writes it to benchmarks/RESULTS.md. `--quick` takes fewer samples.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = ROOT / ".bench-venv"
QUICK = "--quick" in sys.argv
_OURS = ("selectools", "hand-written loop")


def ensure_environment() -> None:
    """Re-execute inside .bench-venv, creating it on first use."""
    if os.environ.get("SELECTOOLS_BENCH_VENV"):
        return
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-U", "pip"], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "-e",
            f"{ROOT}[fastapi,flask]",
            "-r",
            str(HERE / "requirements-peers.txt"),
        ],
        check=True,
    )
    env = {**os.environ, "SELECTOOLS_BENCH_VENV": "1"}
    os.execve(str(python), [str(python), __file__, *sys.argv[1:]], env)


def per_call(fn: Callable[[], Any], *, is_async: bool, budget: float) -> float:
    """Median seconds per call over 5 batches sized to `budget` seconds each."""

    async def batch_async(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await fn()
        return time.perf_counter() - start

    def batch(n: int) -> float:
        if is_async:
            return asyncio.run(batch_async(n))
        start = time.perf_counter()
        for _ in range(n):
            fn()
        return time.perf_counter() - start

    batch(3)  # warm up: caches, validators, lazy imports
    once = max(batch(5) / 5, 1e-7)
    n = max(3, int(budget / once))
    return statistics.median(batch(n) / n for _ in range(5))


def import_seconds(statement: str, repeats: int) -> float:
    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    base = statistics.median(once("pass") for _ in range(repeats))
    return statistics.median(once(statement) for _ in range(repeats)) - base


def peak_memory_mb(framework: str) -> float:
    code = f"""
import sys
sys.path.insert(0, {str(HERE)!r})
import peers, scenarios
run, _ = peers.FRAMEWORKS[{framework!r}](scenarios.ONE_TOOL)
for _ in range(200):
    run()
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) / 1024)  # ru_maxrss survives exec; VmHWM does not
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def _best(values: dict[str, float]) -> float:
    """The best (lowest) peer value: selectools and the floor are not peers."""
    return min(v for k, v in values.items() if k not in _OURS)


def fmt(seconds: float) -> str:
    if seconds >= 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def main() -> None:
    ensure_environment()
    sys.path.insert(0, str(HERE))
    import peers
    import scenarios as sc

    budget = 0.05 if QUICK else 0.3
    names = list(peers.FRAMEWORKS)
    rows: list[tuple[str, dict[str, str], str]] = []

    def add(case: str, values: dict[str, float], lower_is_better: bool = True) -> None:
        mine = values["selectools"]
        peers_only = {
            k: v for k, v in values.items() if k not in ("selectools", "hand-written loop")
        }
        best = min(peers_only.values()) if lower_is_better else max(peers_only.values())
        floor = values.get("hand-written loop")
        note = f"{mine / best:.2f}x best peer"
        if floor:
            note += f", {mine / floor:.2f}x floor"
        rows.append((case, {k: fmt(v) for k, v in values.items()}, note))

    for scenario in (sc.ONE_TOOL, sc.TEN_TURNS, sc.HISTORY_0, sc.HISTORY_100):
        for mode in ("sync", "async"):
            values = {}
            # async runs get an async tool: no thread hop, only the framework's own work
            variant = scenario if mode == "sync" else dataclasses.replace(scenario, tool="async")
            for name in names:
                run_sync, run_async = peers.FRAMEWORKS[name](variant)
                fn = run_sync if mode == "sync" else run_async
                values[name] = per_call(fn, is_async=mode == "async", budget=budget)
            add(f"{scenario.name} ({mode})", values)

    parallel: dict[str, float] = {}
    for name in names:
        _, run_async = peers.FRAMEWORKS[name](sc.PARALLEL)
        parallel[name] = per_call(run_async, is_async=True, budget=0.3)
    add(f"{sc.PARALLEL.name} (async wall time; ideal 50 ms)", parallel)

    repeats = 3 if QUICK else 7
    imports = {name: import_seconds(stmt, repeats) for name, stmt in peers.IMPORTS.items()}
    rows.append(
        (
            "cold import",
            {k: fmt(v) for k, v in imports.items()},
            f"{imports['selectools'] / _best(imports):.2f}x best peer",
        )
    )
    memory = {name: peak_memory_mb(name) for name in names}
    rows.append(
        (
            "peak RSS, import + 200 runs",
            {k: f"{v:.0f} MB" for k, v in memory.items()},
            f"{memory['selectools'] / _best(memory):.2f}x best peer",
        )
    )

    versions = ", ".join(
        f"{name} {metadata.version(dist)}" for name, dist in peers.DISTRIBUTIONS.items()
    )
    lines = [
        f"| case | {' | '.join(names)} | selectools vs |",
        f"|---|{'---|' * len(names)}---|",
        *(
            f"| {case} | {' | '.join(vals.get(n, '') for n in names)} | {note} |"
            for case, vals, note in rows
        ),
        "",
        f"Versions: {versions}; Python {platform.python_version()}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}.",
        "Command: `python benchmarks/run.py`"
        + (" --quick" if QUICK else "")
        + f" ({time.strftime('%Y-%m-%d')}). Lower is better; median of 5 batches.",
    ]
    import web_overhead

    table = "\n".join(lines) + "\n\nWeb adapters, real servers in separate processes:\n\n"
    table += web_overhead.table()
    print(table)
    (HERE / "RESULTS.md").write_text("# Benchmark results\n\n" + table + "\n")


if __name__ == "__main__":
    main()
