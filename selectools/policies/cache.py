"""ResponseCache: model answers cached by the exact request, never shared across identities.

`Agent(..., cache=ResponseCache(ttl=600))` asks the model once per distinct
request: the key is a hash of the provider, model, messages, tools and
parameters, and of the caller's identity (unless `shared=True`). Entries live
in this process (an LRU of `max_entries`, each expiring after `ttl`) or in
Redis (`ResponseCache("redis://...")`, shared by every worker). A hit costs no
tokens and counts in `Usage.cache_hits`; a miss counts in `Usage.cache_misses`
(both visible to observers in each `ModelCallFinished`). `SemanticCache`
(`selectools.policies.semantic_cache`) matches similar prompts instead.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any, Protocol

from ..messages import Message
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)
from ..usage import Usage
from .base import ProviderWrapper
from .redis_clients import RedisClients

__all__ = [
    "CacheBackend",
    "MemoryEntries",
    "RedisEntries",
    "ResponseCache",
    "decode_response",
    "encode_response",
    "request_key",
]


# -- where entries live --------------------------------------------------------------


class MemoryEntries:
    """An LRU of at most `max_entries` values, each expiring `ttl` seconds after it was put."""

    def __init__(self, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries={max_entries} must be at least 1.")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float | None, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires is not None and expires <= time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: Any, ttl: float | None) -> None:
        expires = None if ttl is None else time.monotonic() + ttl
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    async def aget(self, key: str) -> Any:
        return self.get(key)

    async def aput(self, key: str, value: Any, ttl: float | None) -> None:
        self.put(key, value, ttl)


class RedisEntries:
    """Values as JSON under `prefix` + key, with a TTL, shared by every worker."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        encode: Callable[[Any], Any],
        decode: Callable[[Any], Any],
        feature: str,
    ) -> None:
        self.clients = RedisClients(url, feature=feature)
        self.prefix = prefix
        self.encode = encode
        self.decode = decode

    def get(self, key: str) -> Any:
        return self._loaded(self.clients.sync.get(self.prefix + key))

    async def aget(self, key: str) -> Any:
        return self._loaded(await self.clients.current().get(self.prefix + key))

    def put(self, key: str, value: Any, ttl: float | None) -> None:
        self.clients.sync.set(self.prefix + key, self._dumped(value), px=_millis(ttl))

    async def aput(self, key: str, value: Any, ttl: float | None) -> None:
        await self.clients.current().set(self.prefix + key, self._dumped(value), px=_millis(ttl))

    def _dumped(self, value: Any) -> str:
        return json.dumps(self.encode(value), ensure_ascii=False)

    def _loaded(self, raw: bytes | None) -> Any:
        return None if raw is None else self.decode(json.loads(raw))


def _millis(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, round(ttl * 1000))


# -- model responses -----------------------------------------------------------------


def request_key(provider: Provider, request: ModelRequest, *, shared: bool = False) -> str:
    """A hash of everything that shapes the answer, and of who asks (unless `shared`)."""
    return _digest(_request_facts(provider, request, shared, request.messages))


def _request_facts(
    provider: Provider, request: ModelRequest, shared: bool, messages: Any
) -> dict[str, Any]:
    return {
        "provider": provider.name,
        "model": provider.model,
        "messages": [m.to_dict() for m in messages],
        "tools": list(request.tools),
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "parallel_tool_calls": request.parallel_tool_calls,
        "extra": dict(request.extra),
        "identity": None if shared else request.identity,
    }


def _digest(facts: dict[str, Any]) -> str:
    text = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def encode_response(response: ModelResponse) -> dict[str, Any]:
    return {
        "message": response.message.to_dict(),
        "usage": response.usage.to_dict(),
        "model": response.model,
        "finish_reason": response.finish_reason,
        "provider": response.provider,
    }


def decode_response(data: dict[str, Any]) -> ModelResponse:
    usage = data.get("usage") or {}
    return ModelResponse(
        message=Message.from_dict(data["message"]),
        usage=Usage(
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            requests=int(usage.get("requests", 0)),
            cost_usd=usage.get("cost_usd"),
        ),
        model=str(data.get("model", "")),
        finish_reason=data.get("finish_reason"),
        provider=str(data.get("provider", "")),
    )


def served_from_cache(response: ModelResponse) -> ModelResponse:
    """What a hit returns: the stored answer, costing nothing and counted as a hit."""
    return replace(response, usage=Usage(cache_hits=1))


def missed(response: ModelResponse) -> ModelResponse:
    return replace(response, usage=response.usage + Usage(cache_misses=1))


class CacheBackend(Protocol):
    """What `CachedProvider` needs from a cache: find an answer, keep one (sync and async)."""

    def lookup(self, provider: Provider, request: ModelRequest) -> ModelResponse | None: ...

    async def alookup(self, provider: Provider, request: ModelRequest) -> ModelResponse | None: ...

    def store(self, provider: Provider, request: ModelRequest, response: ModelResponse) -> None: ...

    async def astore(
        self, provider: Provider, request: ModelRequest, response: ModelResponse
    ) -> None: ...


class ResponseCache:
    """Cache model answers by the exact request, per identity.

    Args:
        storage: None (this process, an LRU) or a Redis URL shared by every worker.
        ttl: seconds an answer stays (None: until evicted; Redis keeps it forever).
        max_entries: the in-process LRU's size.
        shared: share answers between identities (only for answers that depend on
            nothing but the request, e.g. no per-user data in tools or prompts).
        prefix: Redis key prefix.
    """

    def __init__(
        self,
        storage: str | None = None,
        *,
        ttl: float | None = 3600.0,
        max_entries: int = 1024,
        shared: bool = False,
        prefix: str = "selectools:cache:",
    ) -> None:
        self.ttl = ttl
        self.shared = shared
        self.entries: MemoryEntries | RedisEntries = (
            MemoryEntries(max_entries)
            if storage is None
            else RedisEntries(
                storage,
                prefix=prefix,
                encode=encode_response,
                decode=decode_response,
                feature="ResponseCache",
            )
        )
        self.hits = 0
        self.misses = 0
        self._count_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ResponseCache(ttl={self.ttl}, shared={self.shared})"

    def wrap(self, provider: Provider) -> Provider:
        return CachedProvider(provider, self)

    def lookup(self, provider: Provider, request: ModelRequest) -> ModelResponse | None:
        return self._counted(self.entries.get(request_key(provider, request, shared=self.shared)))

    async def alookup(self, provider: Provider, request: ModelRequest) -> ModelResponse | None:
        key = request_key(provider, request, shared=self.shared)
        return self._counted(await self.entries.aget(key))

    def store(self, provider: Provider, request: ModelRequest, response: ModelResponse) -> None:
        self.entries.put(request_key(provider, request, shared=self.shared), response, self.ttl)

    async def astore(
        self, provider: Provider, request: ModelRequest, response: ModelResponse
    ) -> None:
        key = request_key(provider, request, shared=self.shared)
        await self.entries.aput(key, response, self.ttl)

    def _counted(self, found: ModelResponse | None) -> ModelResponse | None:
        with self._count_lock:  # hits and misses of this process, for metrics
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found


class CachedProvider(ProviderWrapper):
    """A provider that asks `cache` first and fills it with every complete answer."""

    def __init__(self, inner: Provider, cache: CacheBackend) -> None:
        super().__init__(inner)
        self.cache = cache

    def complete(self, request: ModelRequest) -> ModelResponse:
        found = self.cache.lookup(self.inner, request)
        if found is not None:
            return served_from_cache(found)
        response = self.inner.complete(request)
        self.cache.store(self.inner, request, response)
        return missed(response)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        found = await self.cache.alookup(self.inner, request)
        if found is not None:
            return served_from_cache(found)
        response = await self.inner.acomplete(request)
        await self.cache.astore(self.inner, request, response)
        return missed(response)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        found = self.cache.lookup(self.inner, request)
        if found is not None:
            yield from _replayed(found)
            return
        items = self.inner.stream(request)
        try:
            for item in items:
                if isinstance(item, ModelResponse):
                    self.cache.store(self.inner, request, item)
                    item = missed(item)
                yield item
        finally:
            close_stream(items)

    async def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        found = await self.cache.alookup(self.inner, request)
        if found is not None:
            for piece in _replayed(found):
                yield piece
            return
        items = self.inner.astream(request)
        try:
            async for item in items:
                if isinstance(item, ModelResponse):
                    await self.cache.astore(self.inner, request, item)
                    item = missed(item)
                yield item
        finally:
            await aclose_stream(items)


def _replayed(found: ModelResponse) -> Iterator[TextChunk | ModelResponse]:
    if found.message.content:
        yield TextChunk(found.message.content)
    yield served_from_cache(found)
