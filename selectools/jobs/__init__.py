"""Background jobs: agent runs that outlive the HTTP request that started them.

- `record`: a job's fixed record and changing state.
- `store`: the `JobStore` contract and `InMemoryJobStore`; `redis_store`:
  `RedisJobStore`; `sql_store`: `SQLAlchemyJobStore` (SQLite, PostgreSQL).
- `runner`: `execute_job`, the same steps in any process (lease, skip finished
  items, journal, cancel, timeout).
- `journal`: the step journal that keeps completed write-tool calls from running twice.
- `executors`: `InProcessExecutor` (default; survives nothing); `celery`:
  `CeleryExecutor` and the worker task (`selectools[celery]`).
- `service`: `Jobs`, given to `AgentRouter(jobs=...)` / `Selectools(jobs=...)`.
- `wire`, `handlers`: the routes' bodies and what each route does.
"""

from __future__ import annotations

from .executors import InProcessExecutor, JobExecutor
from .handlers import JobNotFoundError
from .record import JobRecord, JobState
from .redis_store import RedisJobStore
from .runner import execute_job
from .service import Jobs
from .sql_store import SQLAlchemyJobStore
from .store import InMemoryJobStore, JobStore

__all__ = [
    "InMemoryJobStore",
    "InProcessExecutor",
    "JobExecutor",
    "JobNotFoundError",
    "JobRecord",
    "JobState",
    "JobStore",
    "Jobs",
    "RedisJobStore",
    "SQLAlchemyJobStore",
    "execute_job",
]
