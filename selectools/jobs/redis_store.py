"""Jobs in Redis: every web worker answers for every job, every Celery worker can run it.

Keys, under `namespace` (default "selectools:jobs"), per job: `:record`
(JSON), `:state` (hash), `:items` (hash, first write wins), `:events`
(list), `:lease` (holder, with a TTL), `:journal` (hash). Each expires
`ttl` seconds (a week by default) after the job was created or last written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from ..extras import require
from .record import JobRecord, JobState
from .store import JobEvent

__all__ = ["RedisJobStore"]

_FINISH = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], 'done', 1)
if ARGV[3] == '0' then redis.call('HINCRBY', KEYS[2], 'failed', 1) end
redis.call('HSET', KEYS[2], 'updated_at', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""
_CLAIM = """
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisJobStore:
    """`JobStore` on Redis (`url` like "redis://127.0.0.1:6379/0")."""

    def __init__(
        self, url: str, *, namespace: str = "selectools:jobs", ttl: int = 7 * 24 * 3600
    ) -> None:
        redis = require("redis", extra="redis", feature="RedisJobStore")
        self.url = url
        self.namespace = namespace
        self.ttl = ttl
        self.client: Any = redis.Redis.from_url(url, decode_responses=True)
        self._finish = self.client.register_script(_FINISH)
        self._claim = self.client.register_script(_CLAIM)
        self._release = self.client.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"RedisJobStore(namespace={self.namespace!r})"

    def _key(self, job_id: str, part: str) -> str:
        return f"{self.namespace}:{job_id}:{part}"

    def create(self, record: JobRecord) -> None:
        pipe = self.client.pipeline()
        pipe.set(self._key(record.id, "record"), json.dumps(record.to_dict()), ex=self.ttl)
        state = {"status": "queued", "done": 0, "failed": 0, "updated_at": time.time()}
        pipe.hset(self._key(record.id, "state"), mapping=state)
        pipe.expire(self._key(record.id, "state"), self.ttl)
        pipe.execute()

    def record(self, job_id: str) -> JobRecord | None:
        raw = self.client.get(self._key(job_id, "record"))
        return JobRecord.from_dict(json.loads(raw)) if raw else None

    def state(self, job_id: str) -> JobState | None:
        raw = self.client.hgetall(self._key(job_id, "state"))
        if not raw:
            return None
        return JobState(
            status=raw["status"],
            done=int(raw.get("done", 0)),
            failed=int(raw.get("failed", 0)),
            error=raw.get("error") or None,
            updated_at=float(raw.get("updated_at", 0)),
            cancel_requested=raw.get("cancel") == "1",
        )

    def set_status(self, job_id: str, status: str, error: str | None = None) -> None:
        values = {"status": status, "error": error or "", "updated_at": time.time()}
        self.client.hset(self._key(job_id, "state"), mapping=values)

    def finish_item(self, job_id: str, index: int, item: Mapping[str, Any], ok: bool) -> bool:
        keys = [self._key(job_id, "items"), self._key(job_id, "state")]
        args = [index, json.dumps(item), "1" if ok else "0", time.time(), self.ttl]
        return bool(self._finish(keys=keys, args=args))

    def items(self, job_id: str) -> dict[int, dict[str, Any]]:
        raw = self.client.hgetall(self._key(job_id, "items"))
        return {int(k): json.loads(v) for k, v in raw.items()}

    def add_event(self, job_id: str, name: str, data: Mapping[str, Any]) -> int:
        key = self._key(job_id, "events")
        pipe = self.client.pipeline()
        pipe.rpush(key, json.dumps([name, data]))
        pipe.expire(key, self.ttl)
        seq: int = pipe.execute()[0]
        return seq

    def events(self, job_id: str, after: int = 0) -> list[JobEvent]:
        raw = self.client.lrange(self._key(job_id, "events"), after, -1)
        return [(after + n + 1, *json.loads(item)) for n, item in enumerate(raw)]

    def request_cancel(self, job_id: str) -> None:
        self.client.hset(self._key(job_id, "state"), "cancel", "1")

    def claim(self, job_id: str, holder: str, ttl: float) -> bool:
        return bool(self._claim(keys=[self._key(job_id, "lease")], args=[holder, int(ttl * 1000)]))

    def release(self, job_id: str, holder: str) -> None:
        self._release(keys=[self._key(job_id, "lease")], args=[holder])

    def journal_get(self, job_id: str, key: str) -> str | None:
        value: str | None = self.client.hget(self._key(job_id, "journal"), key)
        return value

    def journal_put(self, job_id: str, key: str, output: str) -> None:
        name = self._key(job_id, "journal")
        pipe = self.client.pipeline()
        pipe.hset(name, key, output)
        pipe.expire(name, self.ttl)
        pipe.execute()
