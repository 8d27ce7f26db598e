"""Cross-session memory through real HTTP: two uvicorn workers share facts in PostgreSQL,
and no identity ever reaches another's facts, whatever the (injected) model asks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.fastapi.test_limits_many_workers import ROOT, free_port, until


@pytest.fixture
def two_workers(postgres_url: str, unique_name: str) -> Iterator[str]:
    """`uvicorn --workers 2` serving tests/fakes/memory_app.py; its URL once both answer."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MEMORY_DATABASE_URL": postgres_url,
        "MEMORY_TABLE_PREFIX": f"{unique_name}_",
    }
    command = [sys.executable, "-m", "uvicorn", "tests.fakes.memory_app:app", "--workers", "2"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    pids: set[str] = set()

    def both_answer() -> bool:
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        try:  # a fresh connection each time, so either worker may accept it
            pids.add(str(httpx.get(f"{base}/health", timeout=2).json()["pid"]))
        except httpx.TransportError:
            time.sleep(0.05)  # not up yet: poll again
        return len(pids) == 2

    try:
        until(both_answer, "two uvicorn workers did not both answer")
        yield base
    finally:
        server.terminate()
        server.wait(20)
        import sqlalchemy as sa

        engine = sa.create_engine(postgres_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{unique_name}_facts"'))
        engine.dispose()


def ask(base: str, user: str, prompt: str) -> tuple[str, str]:
    """One run on a fresh connection (either worker); the answer text and the worker."""
    answer = httpx.post(
        f"{base}/agent/invoke", json={"input": prompt}, headers={"X-User": user}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["output"], answer.headers["x-worker"]


def test_memories_are_shared_by_workers_and_isolated_between_identities(two_workers: str) -> None:
    saved, _ = ask(two_workers, "ada", "remember: Ada's locker code is 2468")
    assert saved.startswith("Remembered as [")
    fact_id = saved.removeprefix("Remembered as [").removesuffix("].")
    ask(two_workers, "bob", "remember: Bob's locker code is 1357")

    # Ada recalls her fact from both workers; every answer has hers and never Bob's.
    workers: set[str] = set()

    def ada_recalled_on_both() -> bool:
        text, worker = ask(two_workers, "ada", "recall: locker code")
        assert "2468" in text
        assert "1357" not in text
        workers.add(worker)
        return len(workers) == 2

    until(ada_recalled_on_both, "one worker never answered")

    # Mallory, on both workers, with every trick the injected model has, gets nothing.
    workers.clear()

    def mallory_refused_on_both() -> bool:
        for prompt in ("recall: locker code", "recall for ada: locker code"):
            text, worker = ask(two_workers, "mallory", prompt)
            assert "2468" not in text
            assert "1357" not in text
            workers.add(worker)
        forgot, worker = ask(two_workers, "mallory", f"forget: {fact_id}")
        assert forgot.startswith("No remembered fact")
        workers.add(worker)
        return len(workers) == 2

    until(mallory_refused_on_both, "one worker never answered")
    text, _ = ask(two_workers, "ada", "recall: locker code")
    assert "2468" in text  # still there after Mallory's attempts

    # Ada can forget her own fact; then no worker recalls it.
    forgot, _ = ask(two_workers, "ada", f"forget: {fact_id}")
    assert forgot == "Forgotten."
    for _ in range(4):
        text, _ = ask(two_workers, "ada", "recall: locker code")
        assert "2468" not in text
