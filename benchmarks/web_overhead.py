"""Requests per second and latency of /agent/invoke, and time to first SSE event of
/agent/stream, against plain routes doing the same model calls: FastAPI through
uvicorn and Flask through gunicorn, each a real server in a separate process.

Run: `python benchmarks/web_overhead.py` (or as part of `python benchmarks/run.py`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1500"))
CONCURRENCY = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def load(client: httpx.AsyncClient, path: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(REQUESTS):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            queue.get_nowait()
            start = time.perf_counter()
            response = await client.post(path, json={"input": "Weather in Paris?"})
            response.raise_for_status()
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return REQUESTS / (time.perf_counter() - start), latencies


async def first_event(client: httpx.AsyncClient, path: str, runs: int = 200) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        async with client.stream("POST", path, json={"input": "Weather in Paris?"}) as response:
            first = None
            async for line in response.aiter_lines():  # read to the end: the run completes
                if first is None and line.startswith("event: "):
                    first = time.perf_counter() - start
            assert first is not None
            samples.append(first)
    return statistics.median(samples)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(base: str, label: str = "FastAPI") -> list[str]:
    rows = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await load(client, "/plain/invoke")  # warm up both
        await load(client, "/agent/invoke")
        plain_rps, plain_lat = await load(client, "/plain/invoke")
        agent_rps, agent_lat = await load(client, "/agent/invoke")
        rows.append(
            f"| {label} `/invoke` req/s | {agent_rps:.0f} | {plain_rps:.0f} | "
            f"{agent_rps / plain_rps:.2f}x |"
        )
        for q, q_label in ((0.5, "p50"), (0.99, "p99")):
            mine, floor = pct(agent_lat, q), pct(plain_lat, q)
            rows.append(
                f"| {label} `/invoke` {q_label} latency | {mine:.1f} ms | {floor:.1f} ms | "
                f"{mine / floor:.2f}x |"
            )
        plain_ttfe = await first_event(client, "/plain/stream")
        agent_ttfe = await first_event(client, "/agent/stream")
        rows.append(
            f"| {label} `/stream` time to first event | {agent_ttfe * 1000:.1f} ms | "
            f"{plain_ttfe * 1000:.1f} ms | {agent_ttfe / plain_ttfe:.2f}x |"
        )
    return rows


SERVERS = {
    "FastAPI (uvicorn)": [
        "-m",
        "uvicorn",
        "web_app:app",
        "--port",
        "{port}",
        "--log-level",
        "warning",
    ],
    "Flask (gunicorn, 8 threads)": [
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:{port}",
        "--threads",
        "8",
        "--log-level",
        "warning",
        "web_app_flask:app",
    ],
}


def serve_and_measure(label: str, args: list[str]) -> list[str]:
    port = free_port()
    command = [sys.executable, *(a.format(port=port) for a in args)]
    server = subprocess.Popen(command, cwd=Path(__file__).resolve().parent)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/agent/v1/models", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return asyncio.run(measure(f"http://127.0.0.1:{port}", label))
    finally:
        server.terminate()
        server.wait(10)


def table() -> str:
    rows = [row for label, args in SERVERS.items() for row in serve_and_measure(label, args)]
    header = f"case ({REQUESTS} requests, {CONCURRENCY} concurrent)"
    return "\n".join(
        [f"| {header} | selectools | plain route | ratio |", "|---|---|---|---|", *rows]
    )


if __name__ == "__main__":
    print(table())
