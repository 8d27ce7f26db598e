"""Requests per second of /agent/invoke against bare routes making the same model calls
(one calling `agent.arun`, which isolates the adapter, one a hand-written loop),
driven by `wrk` (a load generator in its own process, 32 connections), and the time to
the first SSE event of /agent/stream against a bare generator. FastAPI runs under
uvicorn, Flask under gunicorn, each a real server in its own process.

Needs `wrk` (Debian/Ubuntu: `apt-get install wrk`).
Run: `python benchmarks/web_overhead.py` (or as part of `python benchmarks/run.py`).
Env: BENCH_SECONDS (per wrk run, default 5), BENCH_ROUNDS (alternating runs, default 3).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = 32
HERE = Path(__file__).resolve().parent

CASES = {
    "no tool call": {"input": "hello there"},
    "one tool call": {"input": "weather Paris"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wrk(url: str, body: dict[str, str]) -> float:
    """Requests/s over SECONDS; every answer must be a 2xx."""
    if shutil.which("wrk") is None:
        raise SystemExit("The web benchmark needs wrk: apt-get install wrk")
    script = (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{CONNECTIONS}",
                f"-d{SECONDS}s",
                "--timeout",
                "30s",
                "-s",
                handle.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(handle.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors or "Socket errors" in out:
        raise RuntimeError(f"wrk saw failed requests at {url}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found, out
    return float(found.group(1))


def first_event(url: str, runs: int = 300) -> float:
    """Seconds from sending the request to the first `event:` line (read to the end): the
    10th percentile, what the code costs when the shared machine is not in the way."""
    samples = []
    with httpx.Client(timeout=30) as client:
        for _ in range(runs):
            start = time.perf_counter()
            first = None
            with client.stream("POST", url, json=CASES["one tool call"]) as response:
                for line in response.iter_lines():
                    if first is None and line.startswith("event: "):
                        first = time.perf_counter() - start
            assert first is not None
            samples.append(first)
    return statistics.quantiles(samples, n=10)[0]


def measure(base: str, label: str) -> list[str]:
    rows = []
    paths = ("/agent/invoke", "/arun/invoke", "/plain/invoke")
    for case, body in CASES.items():
        for path in paths:  # warm up
            wrk(f"{base}{path}", body)
        rates: dict[str, list[float]] = {path: [] for path in paths}
        for _ in range(ROUNDS):  # alternate, so drift on a shared machine hits all alike
            for path in paths:
                rates[path].append(wrk(f"{base}{path}", body))
        router, arun, bare = (statistics.median(rates[path]) for path in paths)
        rows.append(
            f"| {label} `/invoke`, {case} (req/s) | {router:.0f} | {arun:.0f} | {bare:.0f} | "
            f"{router / arun:.2f}x | {router / bare:.2f}x |"
        )
    first_event(f"{base}/agent/stream", 30)
    bare_first = first_event(f"{base}/plain/stream")
    ours = first_event(f"{base}/agent/stream")
    rows.append(
        f"| {label} `/stream` first event (p10) | {ours * 1000:.2f} ms |  | "
        f"{bare_first * 1000:.2f} ms |  | {(ours - bare_first) * 1000:+.2f} ms |"
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
        "--no-access-log",
    ],
    "Flask (gunicorn, 8 threads)": [
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:{port}",
        "--threads",
        "8",
        "--graceful-timeout",
        "2",
        "--log-level",
        "warning",
        "web_app_flask:app",
    ],
}


def serve_and_measure(label: str, args: list[str]) -> list[str]:
    port = free_port()
    command = [sys.executable, *(a.format(port=port) for a in args)]
    server = subprocess.Popen(command, cwd=HERE)
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
        rows = measure(f"http://127.0.0.1:{port}", label)
        print("\n".join(rows), file=sys.stderr)  # progress, in case a later server fails
        return rows
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def table() -> str:
    rows = [row for label, args in SERVERS.items() for row in serve_and_measure(label, args)]
    header = f"case (wrk, {CONNECTIONS} connections, median of {ROUNDS} x {SECONDS} s)"
    columns = "AgentRouter | bare route + `agent.arun` | bare route + hand loop"
    ratios = "vs bare + `arun` (adapter) | vs hand loop (adapter + core)"
    return "\n".join([f"| {header} | {columns} | {ratios} |", "|---|---|---|---|---|---|", *rows])


if __name__ == "__main__":
    print(table())
