"""Two real uvicorn worker processes sharing PostgreSQL: a run paused on one is decided on
the other (or on both at once), and the write happens exactly once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).parents[2]
ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Worker:
    """`uvicorn tests.fakes.approval_app:app` in its own process."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.fakes.approval_app:app",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )

    def wait_ready(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}")
            try:
                return int(httpx.get(f"{self.url}/health", timeout=1).json()["pid"])
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("worker did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def workers(postgres_url: str, unique_name: str) -> Iterator[tuple[Worker, Worker, Any]]:
    import sqlalchemy as sa

    prefix = f"{unique_name}_"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE {prefix}writes (id SERIAL PRIMARY KEY, note TEXT NOT NULL, "
                f"pid INTEGER NOT NULL)"
            )
        )
    env = {
        **os.environ,
        "APPROVAL_DB_URL": postgres_url,
        "APPROVAL_PREFIX": prefix,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path]),
    }
    started = [Worker(env), Worker(env)]
    try:
        pids = {w.wait_ready() for w in started}
        assert len(pids) == 2

        def writes() -> list[tuple[str, int]]:
            with engine.connect() as conn:
                rows = conn.execute(sa.text(f"SELECT note, pid FROM {prefix}writes ORDER BY id"))
                return [(r.note, r.pid) for r in rows]

        yield started[0], started[1], writes
    finally:
        for worker in started:
            worker.stop()
        with engine.begin() as conn:
            for table in ("writes", "approvals", "messages", "sessions"):
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {prefix}{table} CASCADE"))
        engine.dispose()


def test_a_decision_on_a_second_worker_resumes_and_writes_once(
    workers: tuple[Worker, Worker, Any],
) -> None:
    first, second, writes = workers
    paused = httpx.post(
        f"{first.url}/agent/invoke",
        json={"input": "remember the milk", "session_id": "w"},
        headers=ADA,
        timeout=30,
    )
    assert paused.status_code == 200, paused.text
    body = paused.json()
    assert body["status"] == "awaiting_approval"
    assert writes() == []
    url = f"/agent/approvals/{body['approval_id']}"

    stranger = httpx.post(f"{second.url}{url}", json={"approve": True}, headers=BOB, timeout=30)
    assert stranger.status_code == 404
    assert writes() == []

    # The same decision delivered to both workers at once: one runs it, the other gets 409.
    barrier = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def decide(worker: Worker) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait(10)
            answers.append(client.post(f"{worker.url}{url}", json={"approve": True}, headers=ADA))

    threads = [threading.Thread(target=decide, args=(w,)) for w in (first, second) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409, 409, 409], [a.text for a in answers]
    done = next(a.json() for a in answers if a.status_code == 200)
    assert done["status"] == "completed"
    assert done["output"].startswith("Done: saved in worker")
    assert [note for note, _ in writes()] == ["remember the milk"]

    # The conversation is whole on either worker.
    for worker in (first, second):
        session = httpx.get(f"{worker.url}/agent/sessions/w", headers=ADA, timeout=30).json()
        assert [m["role"] for m in session["messages"]] == [
            "user",
            "assistant",
            "tool",
            "assistant",
        ]


def test_a_run_paused_before_a_restart_is_decided_after_it(
    workers: tuple[Worker, Worker, Any],
) -> None:
    first, second, writes = workers
    body = httpx.post(
        f"{first.url}/agent/invoke", json={"input": "after restart"}, headers=ADA, timeout=30
    ).json()
    first.stop()  # the worker that paused the run is gone
    url = f"{second.url}/agent/approvals/{body['approval_id']}/stream"
    streamed = httpx.post(
        url, json={"approve": False, "reason": "not now"}, headers=ADA, timeout=30
    )
    assert streamed.status_code == 200
    assert "event: approval_decided" in streamed.text
    assert '"Done: Error: A person rejected' in streamed.text
    assert "not now" in streamed.text
    assert writes() == []
