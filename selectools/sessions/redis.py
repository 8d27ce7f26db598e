"""Sessions in Redis: shared by every worker, optionally expiring."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..extras import require
from ..messages import Message
from .base import StoredSession

__all__ = ["RedisSessionStore"]


class RedisSessionStore:
    """A Redis list per session plus an owner key.

    An append is one MULTI/EXEC transaction (`SET owner NX` and one `RPUSH` of the
    whole batch), so concurrent writers never lose or split batches. With
    `ttl_seconds`, a session expires that long after its last append.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "selectools:session:",
        ttl_seconds: int | None = None,
    ) -> None:
        redis = require("redis", extra="redis", feature="RedisSessionStore")
        self.url = url
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.client = redis.Redis.from_url(url)
        self._async_client: Any = None

    def _keys(self, session_id: str) -> tuple[str, str]:
        base = f"{self.prefix}{session_id}"
        return f"{base}:messages", f"{base}:owner"

    def _aclient(self) -> Any:
        if self._async_client is None:
            import redis.asyncio

            self._async_client = redis.asyncio.Redis.from_url(self.url)
        return self._async_client

    def _append_ops(
        self, pipe: Any, session_id: str, messages: Sequence[Message], owner: str | None
    ) -> None:
        messages_key, owner_key = self._keys(session_id)
        if owner is not None:
            pipe.set(owner_key, owner, nx=True)
        if messages:
            pipe.rpush(
                messages_key, *(json.dumps(m.to_dict(), ensure_ascii=False) for m in messages)
            )
        if self.ttl_seconds is not None:
            pipe.expire(messages_key, self.ttl_seconds)
            pipe.expire(owner_key, self.ttl_seconds)

    @staticmethod
    def _stored(session_id: str, raw: list[bytes], owner: bytes | None) -> StoredSession | None:
        if not raw and owner is None:
            return None
        messages = tuple(Message.from_dict(json.loads(item)) for item in raw)
        return StoredSession(session_id, messages, owner.decode() if owner is not None else None)

    def load(self, session_id: str) -> StoredSession | None:
        messages_key, owner_key = self._keys(session_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.lrange(messages_key, 0, -1)
        pipe.get(owner_key)
        raw, owner = pipe.execute()
        return self._stored(session_id, raw, owner)

    def append(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        pipe = self.client.pipeline(transaction=True)
        self._append_ops(pipe, session_id, messages, owner)
        pipe.execute()

    def delete(self, session_id: str) -> bool:
        return bool(self.client.delete(*self._keys(session_id)))

    async def aload(self, session_id: str) -> StoredSession | None:
        messages_key, owner_key = self._keys(session_id)
        pipe = self._aclient().pipeline(transaction=True)
        pipe.lrange(messages_key, 0, -1)
        pipe.get(owner_key)
        raw, owner = await pipe.execute()
        return self._stored(session_id, raw, owner)

    async def aappend(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        pipe = self._aclient().pipeline(transaction=True)
        self._append_ops(pipe, session_id, messages, owner)
        await pipe.execute()

    async def adelete(self, session_id: str) -> bool:
        return bool(await self._aclient().delete(*self._keys(session_id)))
