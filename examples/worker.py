"""A Celery worker that runs selectools jobs submitted over HTTP by any web worker.

Run (from the repository root):   celery -A examples.worker worker -P threads -c 8
The web side mounts the same store and queue:
    Jobs(RedisJobStore(JOBS_URL), CeleryExecutor(celery_app))   (see README, "Jobs on Celery")

Settings (environment):
    SELECTOOLS_BROKER_URL   broker, Redis or RabbitMQ      (redis://127.0.0.1:6379/0)
    SELECTOOLS_JOBS_URL     the job store: Redis, or a SQLAlchemy URL (PostgreSQL)  (the broker URL)
    SELECTOOLS_JOBS_NAMESPACE, SELECTOOLS_JOBS_QUEUE       (selectools:jobs, selectools-jobs)
    SELECTOOLS_JOBS_TABLE_PREFIX   tables' prefix in a SQL job store (selectools_)
    SELECTOOLS_AGENT        "module:attribute" of the Agent (or a function making it)
                            (examples.demo_shop:build_agent)
    SELECTOOLS_VISIBILITY_TIMEOUT  seconds before Redis redelivers a dead worker's job (3600)
    SELECTOOLS_RESTORE_EVERY       seconds between looks for such jobs (10)
    SELECTOOLS_LEASE_SECONDS       how long a dead worker's lease blocks a retry (10)
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from celery import Celery

sys.path.insert(0, str(Path(__file__).parent))  # demo_shop imports as a top-level module

from selectools import Agent
from selectools.jobs import RedisJobStore, SQLAlchemyJobStore
from selectools.jobs.celery import configure, install_job_task

BROKER_URL = os.environ.get("SELECTOOLS_BROKER_URL", "redis://127.0.0.1:6379/0")
JOBS_URL = os.environ.get("SELECTOOLS_JOBS_URL", BROKER_URL)
NAMESPACE = os.environ.get("SELECTOOLS_JOBS_NAMESPACE", "selectools:jobs")
QUEUE = os.environ.get("SELECTOOLS_JOBS_QUEUE", "selectools-jobs")
TABLE_PREFIX = os.environ.get("SELECTOOLS_JOBS_TABLE_PREFIX", "selectools_")
AGENT = os.environ.get("SELECTOOLS_AGENT", "demo_shop:build_agent")


def load_agent() -> Agent:
    module, _, name = AGENT.partition(":")
    found: Any = getattr(importlib.import_module(module), name)
    return found if isinstance(found, Agent) else found()


app = Celery("selectools-jobs", broker=BROKER_URL)
configure(
    app,
    visibility_timeout=float(os.environ.get("SELECTOOLS_VISIBILITY_TIMEOUT", "3600")),
    restore_every=int(os.environ.get("SELECTOOLS_RESTORE_EVERY", "10")),
    queue=QUEUE,
)
run_job = install_job_task(
    app,
    agent=load_agent,
    store=(
        RedisJobStore(JOBS_URL, namespace=NAMESPACE)
        if JOBS_URL.startswith(("redis://", "rediss://"))
        else SQLAlchemyJobStore(JOBS_URL, table_prefix=TABLE_PREFIX)
    ),
    lease_seconds=float(os.environ.get("SELECTOOLS_LEASE_SECONDS", "10")),
)
