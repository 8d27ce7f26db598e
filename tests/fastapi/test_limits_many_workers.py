"""Rate limits and quotas shared by two real uvicorn workers through Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what


@pytest.fixture
def two_workers(request: pytest.FixtureRequest, redis_url: str, unique_name: str) -> Iterator[str]:
    """`uvicorn --workers 2` serving tests/fakes/limited_app.py with (rate limit, token
    quota) from the test's parameter; its base URL once both workers answer."""
    rate, quota = request.param
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "LIMITS_RATE": rate,
        "LIMITS_QUOTA_TOKENS": str(quota),
        "LIMITS_REDIS_URL": redis_url,
        "LIMITS_NAMESPACE": unique_name,
    }
    command = [sys.executable, "-m", "uvicorn", "tests.fakes.limited_app:app", "--workers", "2"]
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
        import redis

        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(match=f"*{unique_name}*"):
            client.delete(key)


def invoke(base: str, user: str) -> httpx.Response:
    """One run on a fresh connection (the kernel hands it to either worker)."""
    return httpx.post(
        f"{base}/agent/invoke", json={"input": "hi"}, headers={"X-User": user}, timeout=30
    )


def refused_by_both(base: str, user: str, kind: str) -> set[str]:
    """Keep asking until each worker has refused once; every answer must be a refusal."""
    refusers: set[str] = set()

    def both_refused() -> bool:
        answer = invoke(base, user)
        assert answer.status_code == 429, answer.text
        assert answer.json()["error"]["type"] == kind
        assert int(answer.headers["retry-after"]) >= 1
        refusers.add(answer.headers["x-worker"])
        return len(refusers) == 2

    until(both_refused, "one worker never got a request")
    return refusers


@pytest.mark.parametrize("two_workers", [("10/minute", 1_000)], indirect=True)
def test_the_eleventh_request_of_ten_per_minute_is_refused_by_whichever_worker(
    two_workers: str,
) -> None:
    served = [invoke(two_workers, "ada") for _ in range(10)]
    assert [a.status_code for a in served] == [200] * 10
    assert len(refused_by_both(two_workers, "ada", "rate_limited")) == 2
    assert invoke(two_workers, "bob").status_code == 200  # another caller, another count


@pytest.mark.parametrize("two_workers", [("100/minute", 5)], indirect=True)
def test_a_daily_quota_is_shared_by_the_workers(two_workers: str) -> None:
    # Each run uses 2 tokens (scripted): runs start while under 5, so three get through.
    served = [invoke(two_workers, "carol") for _ in range(3)]
    assert [a.status_code for a in served] == [200] * 3
    assert len(refused_by_both(two_workers, "carol", "quota_exceeded")) == 2
