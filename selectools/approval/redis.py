"""Pending approvals in Redis, beside the Redis sessions.

`{prefix}id:{id}` holds the record; `{prefix}run:{run_id}` and
`{prefix}session:{session_id}` point to the newest one of a run or session.
Deciding is `SET {prefix}id:{id}:decided 1 NX`: exactly one of any number of
concurrent deciders sets it.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from ..extras import require
from .records import PendingApproval

__all__ = ["RedisApprovalStore"]


class RedisApprovalStore:
    """Records expire with `ttl_seconds` (the session store's), or never."""

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "selectools:approval:",
        ttl_seconds: int | None = None,
    ) -> None:
        redis = require("redis", extra="redis", feature="RedisApprovalStore")
        self.url = url
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.client = redis.Redis.from_url(url)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def _aclient(self) -> Any:
        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is None:
            import redis.asyncio

            found = self._async[loop] = redis.asyncio.Redis.from_url(self.url)
        return found

    def _record_key(self, approval_id: str) -> str:
        return f"{self.prefix}id:{approval_id}"

    def _save_ops(self, pipe: Any, record: PendingApproval) -> None:
        ttl = self.ttl_seconds
        pipe.set(self._record_key(record.id), record.to_json(), ex=ttl)
        pipe.set(f"{self.prefix}run:{record.run_id}", record.id, ex=ttl)
        if record.session_id is not None:
            pipe.set(f"{self.prefix}session:{record.session_id}", record.id, ex=ttl)

    def _read_ops(self, pipe: Any, approval_id: str) -> None:
        key = self._record_key(approval_id)
        pipe.get(key)
        pipe.exists(f"{key}:decided")

    @staticmethod
    def _record(raw: bytes | None, decided: int) -> PendingApproval | None:
        if raw is None:
            return None
        record = PendingApproval.from_json(raw)
        return record.decided() if decided else record

    def save(self, record: PendingApproval) -> None:
        pipe = self.client.pipeline(transaction=True)
        self._save_ops(pipe, record)
        pipe.execute()

    def _get(self, approval_id: str) -> PendingApproval | None:
        pipe = self.client.pipeline(transaction=True)
        self._read_ops(pipe, approval_id)
        return self._record(*pipe.execute())

    def find(self, key: str) -> PendingApproval | None:
        found = self._get(key)
        if found is not None:
            return found
        for index in (f"{self.prefix}run:{key}", f"{self.prefix}session:{key}"):
            pointed = self.client.get(index)
            if pointed is not None:
                found = self._get(pointed.decode())
                if found is not None and found.pending:
                    return found
        return None

    def take(self, approval_id: str) -> bool:
        key = f"{self._record_key(approval_id)}:decided"
        return bool(self.client.set(key, "1", nx=True, ex=self.ttl_seconds))

    async def asave(self, record: PendingApproval) -> None:
        pipe = self._aclient().pipeline(transaction=True)
        self._save_ops(pipe, record)
        await pipe.execute()

    async def _aget(self, approval_id: str) -> PendingApproval | None:
        pipe = self._aclient().pipeline(transaction=True)
        self._read_ops(pipe, approval_id)
        return self._record(*(await pipe.execute()))

    async def afind(self, key: str) -> PendingApproval | None:
        found = await self._aget(key)
        if found is not None:
            return found
        for index in (f"{self.prefix}run:{key}", f"{self.prefix}session:{key}"):
            pointed = await self._aclient().get(index)
            if pointed is not None:
                found = await self._aget(pointed.decode())
                if found is not None and found.pending:
                    return found
        return None

    async def atake(self, approval_id: str) -> bool:
        key = f"{self._record_key(approval_id)}:decided"
        return bool(await self._aclient().set(key, "1", nx=True, ex=self.ttl_seconds))
