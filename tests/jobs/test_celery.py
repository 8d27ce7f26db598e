"""Jobs on real Celery workers (subprocesses) over Redis, submitted over HTTP to uvicorn.

One worker per module (threads pool); the kill test SIGKILLs it mid-job and
starts another. Writes are counted in a real SQLite table the worker's tool
inserts into. Each module run has its own queue, key namespace and database.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES_URL, REDIS_URL, _port_open

pytest.importorskip("celery", reason='needs celery: pip install -e ".[celery]"')
if not _port_open("127.0.0.1", 6379):
    if os.environ.get("CI"):
        pytest.fail("Redis is not running on 127.0.0.1:6379, but CI must provide it")
    pytest.skip("Redis is not running on 127.0.0.1:6379", allow_module_level=True)

from celery import Celery

from selectools.jobs import Jobs, RedisJobStore, SQLAlchemyJobStore
from selectools.jobs.celery import CeleryExecutor, configure
from tests.fakes.job_agent import build_agent
from tests.fakes.servers import UvicornThread

ROOT = Path(__file__).parents[2]
ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}


class Workers:
    """Starts `celery -A examples.worker worker` processes with this run's settings."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.current: subprocess.Popen[bytes] | None = None
        self.started = 0

    def start(self) -> None:
        self.started += 1
        command = [
            sys.executable, "-m", "celery", "-A", "examples.worker", "worker",
            "-P", "threads", "-c", "16", "-Q", self.env["SELECTOOLS_JOBS_QUEUE"],
            "-n", f"w{self.started}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning",
        ]  # fmt: skip
        self.current = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env})

    def kill(self) -> None:
        assert self.current is not None
        self.current.send_signal(signal.SIGKILL)
        self.current.wait(10)

    def stop(self) -> None:
        if self.current is not None and self.current.poll() is None:
            self.current.terminate()
            try:
                self.current.wait(10)
            except subprocess.TimeoutExpired:
                self.current.kill()


class Setup:
    def __init__(
        self, url: str, store: RedisJobStore | SQLAlchemyJobStore, workers: Workers, db: Path
    ) -> None:
        self.url = url
        self.store = store
        self.workers = workers
        self.db = db
        self.http = httpx.Client(base_url=url, timeout=60)

    def submit(self, body: dict[str, Any], headers: dict[str, str] = ADA) -> str:
        answer = self.http.post("/agent/jobs", json=body, headers=headers)
        assert answer.status_code == 202, answer.text
        job_id: str = answer.json()["id"]
        return job_id

    def wait(self, job_id: str, headers: dict[str, str] = ADA) -> list[tuple[str, Any]]:
        """Follow the job's SSE stream to its end; the events as (name, data)."""
        events: list[tuple[str, Any]] = []
        with self.http.stream("GET", f"/agent/jobs/{job_id}/events", headers=headers) as stream:
            assert stream.status_code == 200
            name = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, json.loads(line[6:])))
        assert events, "the stream ended without events"
        assert events[-1][0] == "job_finished", events
        return events

    def job(self, job_id: str, headers: dict[str, str] = ADA) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get(f"/agent/jobs/{job_id}", headers=headers).json()
        return body

    def sales(self) -> dict[str, int]:
        with sqlite3.connect(self.db) as db:
            rows = db.execute("SELECT item, COUNT(*) FROM sales GROUP BY item").fetchall()
        return dict(rows)


def web_app(store: RedisJobStore | SQLAlchemyJobStore, queue: str) -> Any:
    from fastapi import FastAPI, Header, HTTPException

    from selectools_fastapi import AgentRouter

    def current_user(authorization: str | None = Header(default=None)) -> str:
        user = {"Bearer token-ada": "ada", "Bearer token-bob": "bob"}.get(authorization or "")
        if user is None:
            raise HTTPException(status_code=401, detail="login required")
        return user

    celery_app = Celery("web", broker=REDIS_URL)
    configure(celery_app, queue=queue)
    jobs = Jobs(store, CeleryExecutor(celery_app, queue=queue), concurrency=4)
    app = FastAPI()
    app.include_router(
        AgentRouter(build_agent(), identity=current_user, jobs=jobs), prefix="/agent"
    )
    return app


@pytest.fixture(scope="module", params=["redis-store", "postgres-store"])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    """The broker is Redis; the jobs live in Redis, then in PostgreSQL."""
    run = uuid.uuid4().hex[:10]
    namespace, queue = f"test-jobs-{run}", f"test-jobs-{run}"
    db = tmp_path_factory.mktemp("jobs") / "sales.db"
    sqlite3.connect(db).execute("CREATE TABLE sales (item TEXT NOT NULL)").connection.commit()
    store: RedisJobStore | SQLAlchemyJobStore
    if request.param == "postgres-store":
        if not _port_open("127.0.0.1", 5432):
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
        jobs_url = POSTGRES_URL
        store = SQLAlchemyJobStore(POSTGRES_URL, table_prefix=f"t{run}_")
    else:
        jobs_url = REDIS_URL
        store = RedisJobStore(REDIS_URL, namespace=namespace)
    env = {
        "SELECTOOLS_JOBS_URL": jobs_url,
        "SELECTOOLS_JOBS_TABLE_PREFIX": f"t{run}_",
        "SELECTOOLS_BROKER_URL": REDIS_URL,
        "SELECTOOLS_JOBS_NAMESPACE": namespace,
        "SELECTOOLS_JOBS_QUEUE": queue,
        "SELECTOOLS_AGENT": "tests.fakes.job_agent:build_agent",
        "SELECTOOLS_VISIBILITY_TIMEOUT": "3",
        "SELECTOOLS_RESTORE_EVERY": "1",
        "SELECTOOLS_LEASE_SECONDS": "2",
        "JOB_TEST_DB": str(db),
    }
    workers = Workers(env)
    workers.start()
    try:
        with UvicornThread(web_app(store, queue)) as server:
            yield Setup(server.url, store, workers, db)
    finally:
        workers.stop()
        broker = RedisJobStore(REDIS_URL, namespace=namespace).client
        for key in broker.scan_iter(match=f"*{run}*"):
            broker.delete(key)
        if isinstance(store, SQLAlchemyJobStore):
            with store.engine.begin() as sql:
                for table in ("jobs", "job_items", "job_events", "job_journal"):
                    sql.exec_driver_sql(f"DROP TABLE IF EXISTS t{run}_{table}")
            store.engine.dispose()


def test_fifty_jobs_submitted_over_http_all_complete_once(setup: Setup) -> None:
    ids = [setup.submit({"input": f"sell fifty-{i}"}) for i in range(50)]
    for job_id in ids:
        events = setup.wait(job_id)
        assert [name for name, _ in events].count("job_finished") == 1
    bodies = [setup.job(job_id) for job_id in ids]
    assert {b["status"] for b in bodies} == {"succeeded"}
    outputs = [b["results"][0]["result"]["output"] for b in bodies]
    assert outputs == [f"done: recorded fifty-{i}" for i in range(50)]
    sales = setup.sales()
    assert {k: v for k, v in sales.items() if k.startswith("fifty-")} == {
        f"fifty-{i}": 1 for i in range(50)
    }


def test_a_killed_worker_jobs_finish_elsewhere_without_repeating_writes(setup: Setup) -> None:
    ids = [setup.submit({"input": f"slow sell killed-{i}"}) for i in range(4)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # polling the shared store from outside the worker
        if all(
            any(name == "step_recorded" for _, name, _ in setup.store.events(job_id))
            for job_id in ids
        ):
            break
        time.sleep(0.02)
    else:
        pytest.fail("the worker never recorded the jobs' writes")
    setup.workers.kill()  # mid-job: every write done, every answer still being written
    assert all(setup.job(job_id)["status"] == "running" for job_id in ids)
    setup.workers.start()

    for job_id in ids:
        names = [name for name, _ in setup.wait(job_id)]
        assert names.count("job_finished") == 1
        assert names.count("step_replayed") == 1  # the retry got the journaled write back
        assert names.count("item_finished") == 1
    bodies = [setup.job(job_id) for job_id in ids]
    assert {b["status"] for b in bodies} == {"succeeded"}
    assert [b["results"][0]["result"]["output"] for b in bodies] == [
        f"done: recorded killed-{i}" for i in range(4)
    ]
    sales = setup.sales()
    assert {f"killed-{i}": sales.get(f"killed-{i}") for i in range(4)} == {
        f"killed-{i}": 1 for i in range(4)
    }


def test_cancel_stops_a_job_on_the_worker(setup: Setup) -> None:
    job_id = setup.submit({"inputs": [{"input": "wait 0.4"} for _ in range(40)]})
    deadline = time.monotonic() + 30
    while not any(n == "item_finished" for _, n, _ in setup.store.events(job_id)):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.02)
    assert setup.http.delete(f"/agent/jobs/{job_id}", headers=ADA).status_code == 202
    events = setup.wait(job_id)
    assert events[-1][1]["status"] == "cancelled"
    body = setup.job(job_id)
    assert body["status"] == "cancelled"
    assert body["progress"]["done"] < 40


def test_another_identity_cannot_read_or_cancel_a_job(setup: Setup) -> None:
    job_id = setup.submit({"input": "wait 0.3"})
    for method, path in [
        ("GET", f"/agent/jobs/{job_id}"),
        ("GET", f"/agent/jobs/{job_id}/events"),
        ("DELETE", f"/agent/jobs/{job_id}"),
    ]:
        answer = setup.http.request(method, path, headers=BOB)
        assert answer.status_code == 404
        assert answer.json()["error"]["type"] == "job_not_found_error"
    assert setup.wait(job_id)[-1][1]["status"] == "succeeded"
    assert setup.job(job_id)["cancel_requested"] is False
