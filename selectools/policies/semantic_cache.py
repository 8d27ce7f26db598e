"""SemanticCache: answer a prompt like one asked before, by embedding similarity (opt-in).

Only the last user message is compared by meaning; everything else (model,
tools, parameters, the earlier conversation, the identity unless `shared`)
must match exactly, so a similar question in another conversation or from
another user never gets this one's answer. Requests that end in tool results
(the middle of a run) pass through. Prompts and answers live in a chromadb
collection (in-process by default; a `chromadb.HttpClient` shares it between
workers), embedded by any chromadb embedding function. Use a real sentence
embedding and a high threshold: a near miss returns a wrong answer.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from ..bridge import run_in_thread
from ..extras import require
from ..providers.base import ModelRequest, ModelResponse, Provider
from .cache import CachedProvider, _digest, _request_facts, decode_response, encode_response

__all__ = ["SemanticCache"]

NEVER = float(2**53)  # chromadb metadata holds no infinity


class SemanticCache:
    """Reuse the answer of a past prompt whose embedding is within `threshold` (cosine).

    Args:
        embedding_function: any chromadb embedding function.
        threshold: the least cosine similarity (0..1) that counts as the same question.
        ttl: seconds an answer stays (None: until deleted).
        shared: share answers between identities.
        client: a chromadb client (default: an in-process `EphemeralClient`).
        collection: the collection's name.
    """

    def __init__(
        self,
        embedding_function: Any,
        *,
        threshold: float = 0.92,
        ttl: float | None = 3600.0,
        shared: bool = False,
        client: Any = None,
        collection: str = "selectools_semantic_cache",
    ) -> None:
        chromadb = require("chromadb", extra="chroma", feature="SemanticCache")
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold={threshold} must be in (0, 1].")
        self.threshold = threshold
        self.ttl = ttl
        self.shared = shared
        client = client if client is not None else chromadb.EphemeralClient()
        self.collection = client.get_or_create_collection(
            collection,
            embedding_function=embedding_function,
            configuration={"hnsw": {"space": "cosine"}},
        )
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SemanticCache(threshold={self.threshold}, ttl={self.ttl})"

    def wrap(self, provider: Provider) -> Provider:
        return CachedProvider(provider, self)

    def lookup(self, provider: Provider, request: ModelRequest) -> ModelResponse | None:
        split = self._split(provider, request)
        if split is None:
            return None
        prompt, context = split
        found = self.collection.query(
            query_texts=[prompt],
            n_results=1,
            where={"$and": [{"context": context}, {"expires_at": {"$gt": time.time()}}]},
            include=["distances", "metadatas"],
        )
        answer = None
        if found["ids"][0]:
            similarity = 1.0 - float(found["distances"][0][0])
            if similarity >= self.threshold:
                answer = decode_response(json.loads(found["metadatas"][0][0]["response"]))
        with self._lock:
            if answer is None:
                self.misses += 1
            else:
                self.hits += 1
        return answer

    async def alookup(self, provider: Provider, request: ModelRequest) -> ModelResponse | None:
        return await run_in_thread(self.lookup, provider, request)  # embedding may be slow

    def store(self, provider: Provider, request: ModelRequest, response: ModelResponse) -> None:
        split = self._split(provider, request)
        if split is None:
            return
        prompt, context = split
        now = time.time()
        self.collection.delete(where={"expires_at": {"$lt": now}})
        self.collection.add(
            ids=[os.urandom(12).hex()],
            documents=[prompt],
            metadatas=[
                {
                    "context": context,
                    "expires_at": NEVER if self.ttl is None else now + self.ttl,
                    "response": json.dumps(encode_response(response), ensure_ascii=False),
                }
            ],
        )

    async def astore(
        self, provider: Provider, request: ModelRequest, response: ModelResponse
    ) -> None:
        await run_in_thread(self.store, provider, request, response)

    def _split(self, provider: Provider, request: ModelRequest) -> tuple[str, str] | None:
        """(the prompt compared by meaning, a hash of all that must match exactly)."""
        if not request.messages:
            return None
        last = request.messages[-1]
        if last.role != "user" or not last.content:
            return None
        facts = _request_facts(provider, request, self.shared, request.messages[:-1])
        return last.content, _digest(facts)
