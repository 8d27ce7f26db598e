"""Load test: `uvicorn --workers 2` sharing PostgreSQL, one worker killed mid-run, and
clients dropping streams mid-tool. Not a unit test: it takes a minute and needs a database.

1. 200 concurrent `/invoke` turns (1 s model, each its own session and identity);
   half a second in, one worker gets SIGKILL. Every turn answered 200 must be stored
   exactly once and whole; a turn that failed must be stored whole or not at all.
2. 100 clients open `/stream` on a run whose tool takes 3 s and leave as soon as
   `tool_call_started` arrives. No run may make its model call after the tool, and
   each worker's asyncio task count must come back to its baseline.

Run: `python benchmarks/load_sessions.py` (PostgreSQL at LOAD_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test). Exits non-zero if a check fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from selectools.sessions import SQLAlchemySessionStore

HERE = Path(__file__).resolve().parent
URL = os.environ.get("LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TURNS, DROPS, TOOL_SECONDS = 200, 100, 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def turns(base: str, kill: int) -> list[tuple[int, int | None]]:
    """(turn, status or None for a dropped connection), SIGKILL to `kill` mid-run."""
    limits = httpx.Limits(max_connections=TURNS)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def one(i: int) -> tuple[int, int | None]:
            body = {"input": f"turn {i}", "session_id": f"load-{i}"}
            try:
                answer = await client.post("/agent/invoke", json=body, headers={"X-User": f"u{i}"})
            except httpx.TransportError:
                return i, None
            return i, answer.status_code

        async def killer() -> None:
            await asyncio.sleep(0.5)
            os.kill(kill, signal.SIGKILL)

        results, _ = await asyncio.gather(asyncio.gather(*(one(i) for i in range(TURNS))), killer())
        return list(results)


async def task_counts(base: str) -> dict[int, int]:
    """Each worker's asyncio task count: a new connection per ask, until both answered."""
    seen: dict[int, int] = {}
    for _ in range(100):
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            data = (await client.get("/debug/tasks")).json()
        seen[data["pid"]] = data["tasks"]
        if len(seen) == 2:
            break
    return seen


async def drop_streams(base: str) -> None:
    async with httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_connections=DROPS)
    ) as client:

        async def one(i: int) -> None:
            body = {"input": f"slow drop{i}", "session_id": f"drop-{i}"}
            headers = {"X-User": f"d{i}"}
            async with client.stream("POST", "/agent/stream", json=body, headers=headers) as r:
                async for line in r.aiter_lines():
                    if line == "event: tool_call_started":
                        return  # leaving the block closes the connection mid-tool

        await asyncio.gather(*(one(i) for i in range(DROPS)))


def main() -> int:
    prefix = f"load_{uuid.uuid4().hex[:8]}_"
    store = SQLAlchemySessionStore(URL, table_prefix=prefix)
    calls_log = Path(tempfile.mkdtemp()) / "calls.log"
    calls_log.touch()
    port = free_port()
    env = {
        **os.environ,
        "LOAD_DATABASE_URL": URL,
        "LOAD_TABLE_PREFIX": prefix,
        "LOAD_CALLS_LOG": str(calls_log),
        "LOAD_TOOL_SECONDS": str(TOOL_SECONDS),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "load_app:app",
            "--workers",
            "2",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=HERE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    failures: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while not _up(base) or len(asyncio.run(task_counts(base))) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start two workers")
            time.sleep(0.2)
        victim = min(asyncio.run(task_counts(base)))  # a worker that serves requests

        results = asyncio.run(turns(base, victim))
        statuses = Counter(status for _, status in results)
        whole, broken = 0, []
        for i, status in results:
            stored = store.load(f"load-{i}")
            contents = [m.content for m in stored.messages] if stored else []
            expected = [f"turn {i}", f"You said: turn {i}"]
            if status == 200 and contents != expected:
                broken.append(f"turn {i}: answered 200, stored {contents}")
            elif status != 200 and contents not in ([], expected):
                broken.append(f"turn {i}: answered {status}, stored {contents}")
            whole += contents == expected
        print(f"1. {TURNS} turns, worker {victim} killed after 0.5 s: answers {dict(statuses)}")
        print(
            f"   stored whole: {whole}; answered 200 and stored exactly once: "
            f"{statuses[200] - sum('answered 200' in b for b in broken)}/{statuses[200]}"
        )
        failures += broken

        baseline = asyncio.run(task_counts(base))
        while len(baseline) < 2:  # uvicorn replaces the killed worker
            time.sleep(0.5)
            baseline = asyncio.run(task_counts(base))
        before = calls_log.read_text().count("after-tool")
        asyncio.run(drop_streams(base))
        time.sleep(TOOL_SECONDS + 2)  # the tools would have finished by now
        after_tool = calls_log.read_text().count("after-tool") - before
        first_calls = sum("slow drop" in line for line in calls_log.read_text().splitlines())
        settled = asyncio.run(task_counts(base))
        print(
            f"2. {DROPS} streams dropped mid-tool: {first_calls} runs started, "
            f"{after_tool} model calls after the tool; tasks per worker {baseline} -> {settled}"
        )
        if after_tool:
            failures.append(f"{after_tool} runs made their next model call after the client left")
        if any(settled.get(pid, 0) > count for pid, count in baseline.items()):
            failures.append(f"asyncio tasks did not return to baseline: {baseline} -> {settled}")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        store.metadata.drop_all(store.engine)
        store.engine.dispose()
    for failure in failures:
        print("FAIL:", failure)
    print("OK" if not failures else f"{len(failures)} failures")
    return 1 if failures else 0


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/agent/v1/models", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    raise SystemExit(main())
