"""Sessions in Redis: shared by every worker, optionally expiring."""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Sequence
from typing import Any

from ..extras import require
from ..messages import Message
from .base import StoredSession, encode_message, not_yours

__all__ = ["RedisSessionStore"]

# KEYS: messages, owner. ARGV: has_owner ("1"/"0"), owner, ttl (0: none), messages...
# The owner is checked where the messages are written, in one atomic step.
_APPEND = """
local stored = redis.call('GET', KEYS[2])
if stored and (ARGV[1] == '0' or stored ~= ARGV[2]) then return 0 end
if (not stored) and ARGV[1] == '1' then redis.call('SET', KEYS[2], ARGV[2]) end
if #ARGV > 3 then redis.call('RPUSH', KEYS[1], unpack(ARGV, 4)) end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  if ARGV[1] == '1' or stored then redis.call('EXPIRE', KEYS[2], ttl) end
end
return 1
"""


class RedisSessionStore:
    """A Redis list per session plus an owner key.

    `claim` is `SET owner NX` with a read of the session in one MULTI/EXEC;
    `append` is one Lua script that checks the owner and pushes the whole
    batch, so concurrent writers never lose or split batches and never write
    into someone else's session. With `ttl_seconds`, a session expires that
    long after its last append.

    Connections come from a blocking pool of `max_connections`: under a burst
    a request waits up to `pool_timeout` seconds for a free connection
    instead of failing. Async clients are made per running event loop, so
    `asyncio.run()` may be called again and again (scripts, Celery tasks).
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "selectools:session:",
        ttl_seconds: int | None = None,
        max_connections: int = 50,
        pool_timeout: float = 20.0,
    ) -> None:
        redis = require("redis", extra="redis", feature="RedisSessionStore")
        self.url = url
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.max_connections = max_connections
        self.pool_timeout = pool_timeout
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=max_connections, timeout=pool_timeout
        )
        self.client = redis.Redis(connection_pool=pool)
        self._append_script = self.client.register_script(_APPEND)
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[Any, Any]] = (
            weakref.WeakKeyDictionary()
        )

    def _keys(self, session_id: str) -> tuple[str, str]:
        base = f"{self.prefix}{session_id}"
        return f"{base}:messages", f"{base}:owner"

    def _aclient(self) -> tuple[Any, Any]:
        """This event loop's client and append script (a client dies with its loop)."""
        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is None:
            import redis.asyncio

            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url, max_connections=self.max_connections, timeout=self.pool_timeout
            )
            client = redis.asyncio.Redis(connection_pool=pool)
            found = self._async[loop] = (client, client.register_script(_APPEND))
        return found

    def _append_args(self, messages: Sequence[Message], owner: str | None) -> list[Any]:
        return [
            "0" if owner is None else "1",
            owner or "",
            self.ttl_seconds or 0,
            *(encode_message(m) for m in messages),
        ]

    def _claim_ops(self, pipe: Any, session_id: str, owner: str) -> None:
        messages_key, owner_key = self._keys(session_id)
        pipe.set(owner_key, owner, nx=True, ex=self.ttl_seconds)
        pipe.lrange(messages_key, 0, -1)
        pipe.get(owner_key)

    @staticmethod
    def _stored(session_id: str, raw: list[bytes], owner: bytes | None) -> StoredSession | None:
        if not raw and owner is None:
            return None
        messages = tuple(Message.from_dict(json.loads(item)) for item in raw)
        return StoredSession.read(
            session_id, messages, owner.decode() if owner is not None else None
        )

    def load(self, session_id: str) -> StoredSession | None:
        messages_key, owner_key = self._keys(session_id)
        pipe = self.client.pipeline(transaction=True)
        pipe.lrange(messages_key, 0, -1)
        pipe.get(owner_key)
        raw, owner = pipe.execute()
        return self._stored(session_id, raw, owner)

    def claim(self, session_id: str, owner: str) -> StoredSession:
        pipe = self.client.pipeline(transaction=True)
        self._claim_ops(pipe, session_id, owner)
        _, raw, stored_owner = pipe.execute()
        stored = self._stored(session_id, raw, stored_owner)
        assert stored is not None, "the owner key was just set"
        return stored

    def append(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        keys = self._keys(session_id)
        if not self._append_script(keys=keys, args=self._append_args(messages, owner)):
            raise not_yours(session_id)

    def delete(self, session_id: str) -> bool:
        return bool(self.client.delete(*self._keys(session_id)))

    async def aload(self, session_id: str) -> StoredSession | None:
        messages_key, owner_key = self._keys(session_id)
        pipe = self._aclient()[0].pipeline(transaction=True)
        pipe.lrange(messages_key, 0, -1)
        pipe.get(owner_key)
        raw, owner = await pipe.execute()
        return self._stored(session_id, raw, owner)

    async def aclaim(self, session_id: str, owner: str) -> StoredSession:
        pipe = self._aclient()[0].pipeline(transaction=True)
        self._claim_ops(pipe, session_id, owner)
        _, raw, stored_owner = await pipe.execute()
        stored = self._stored(session_id, raw, stored_owner)
        assert stored is not None, "the owner key was just set"
        return stored

    async def aappend(
        self, session_id: str, messages: Sequence[Message], *, owner: str | None = None
    ) -> None:
        script = self._aclient()[1]
        if not await script(keys=self._keys(session_id), args=self._append_args(messages, owner)):
            raise not_yours(session_id)

    async def adelete(self, session_id: str) -> bool:
        return bool(await self._aclient()[0].delete(*self._keys(session_id)))
