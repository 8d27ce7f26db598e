"""ChromaToolkit: search a collection (and, when allowed, add to it or delete from it)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from selectools.tools import Tool, Toolkit, method_tool

from .errors import ChromaRefusedError, ChromaToolError, ChromaUpstreamError

__all__ = ["ChromaToolkit", "NewDocument"]

logger = logging.getLogger(__name__)


class NewDocument(BaseModel):
    """A document to add."""

    id: str = Field(min_length=1, description="a unique id")
    text: str = Field(min_length=1, description="the document's text")
    metadata: dict[str, str | int | float | bool] | None = Field(
        default=None, description="optional flat metadata, used by filters"
    )


class ChromaToolkit(Toolkit):
    """Tools over one Chroma collection, chosen at construction (never by the model).

    Pass a collection, or a client and a name. The embedding function is your
    choice and must match how the collection was built; `HashingEmbeddingFunction`
    works offline, a SentenceTransformer one gives real semantic search.

    `where` is the toolkit's scope (a tenant, say): every search is filtered by
    it, new documents get its values in their metadata, an id that already
    belongs to a document outside it is refused, and deletes carry it to Chroma
    so nothing outside it can be removed.

    Args:
        collection: a chromadb Collection.
        client, name: a chromadb client (Ephemeral, Persistent or Http) and a
            collection name (3+ characters), created if missing.
        embedding_function: used when the toolkit creates or opens the collection.
        n_results: results per search by default; max_results caps what the model may ask.
        where: a metadata filter always applied, combined with the model's; with
            writes it must be equalities (`{"tenant": "acme"}`, `$eq`, `$and` of them).
        allow_writes: adds the add and delete tools (and lets those methods run at all).
        max_document_chars: documents longer than this are cut in results.
    """

    name = "chroma"

    def __init__(
        self,
        collection: Any = None,
        *,
        client: Any = None,
        name: str | None = None,
        embedding_function: Any = None,
        n_results: int = 5,
        max_results: int = 20,
        where: Mapping[str, Any] | None = None,
        allow_writes: bool = False,
        max_document_chars: int = 2_000,
        name_prefix: str = "",
        require_approval: bool = True,
    ) -> None:
        if collection is None:
            if client is None or not name:
                raise ValueError("ChromaToolkit needs a collection, or a client and a name.")
            if len(name) < 3:
                raise ValueError(f"Chroma collection names need 3+ characters; got {name!r}.")
            kwargs = {"embedding_function": embedding_function} if embedding_function else {}
            collection = client.get_or_create_collection(name, **kwargs)
        self.collection = collection
        self.n_results = n_results
        self.max_results = max_results
        self.where = dict(where) if where else None
        self.scope_metadata = _equalities(self.where) if self.where else {}
        if allow_writes and self.where and self.scope_metadata is None:
            raise ValueError(
                "With allow_writes=True, `where` must be equalities (e.g. {'tenant': 'acme'}, "
                "{'tenant': {'$eq': 'acme'}} or an $and of them), so new documents land inside it."
            )
        self.allow_writes = allow_writes
        self.require_approval = require_approval
        self.max_document_chars = max_document_chars
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        made = [self._tool(self.search_documents)]
        if self.allow_writes:
            made += [
                self._tool(self.add_documents, writes=True),
                self._tool(self.delete_documents, writes=True),
            ]
        return made

    def close(self) -> None:
        """Nothing to release: the client and collection are the caller's."""

    def _tool(self, method: Callable[..., Any], *, writes: bool = False) -> Tool:
        return method_tool(
            method,
            prefix=self.name_prefix,
            writes=writes,
            requires_approval=writes and self.require_approval,
        )

    def search_documents(
        self, query: str, k: int | None = None, filter: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Find the documents most similar to a query, nearest first.

        Args:
            query: what to look for, in natural language
            k: how many results to return
            filter: a Chroma metadata filter, e.g. {"topic": "billing"} or {"year": {"$gte": 2020}}
        """
        count = self.n_results if k is None else max(1, min(k, self.max_results))
        where = self._where(filter)
        kwargs: dict[str, Any] = {"query_texts": [query], "n_results": count}
        if where:
            kwargs["where"] = where
        found = self._call("search", lambda: self.collection.query(**kwargs))
        results = []
        ids = found["ids"][0]
        for i, doc_id in enumerate(ids):
            text = (found.get("documents") or [[None]])[0][i] or ""
            if len(text) > self.max_document_chars:
                text = text[: self.max_document_chars] + " [cut]"
            results.append(
                {
                    "id": doc_id,
                    "document": text,
                    "metadata": (found.get("metadatas") or [[None]])[0][i],
                    "distance": round(float((found.get("distances") or [[0.0]])[0][i]), 6),
                }
            )
        return results

    def add_documents(self, documents: Sequence[NewDocument]) -> dict[str, Any]:
        """Add documents, or replace ones added before under the same ids.

        Args:
            documents: the documents to store
        """
        self._check_writes()
        if not documents:
            raise ChromaToolError("Send at least one document.")
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            raise ChromaToolError("Each document needs its own id; some ids repeat.")
        fixed = self.scope_metadata or {}
        metadatas = [{**(d.metadata or {}), **fixed} or None for d in documents]
        # Check against the scope before writing: an id in use outside it is refused, ids
        # inside it are replaced, new ids are added (`add` never overwrites an existing id).
        existing = set(self._call("read", lambda: self.collection.get(ids=ids, include=[]))["ids"])
        taken = sorted(existing - self._in_scope(sorted(existing)))
        if taken:
            raise ChromaRefusedError(
                f"The ids {', '.join(taken)} are already used by documents this toolkit may not "
                f"change. Choose other ids."
            )
        fresh = [i for i, d in enumerate(documents) if d.id not in existing]
        replaced = [i for i, d in enumerate(documents) if d.id in existing]
        for chosen, write in ((replaced, self.collection.upsert), (fresh, self.collection.add)):
            if chosen:
                batch = {
                    "ids": [ids[i] for i in chosen],
                    "documents": [documents[i].text for i in chosen],
                    "metadatas": [metadatas[i] for i in chosen],
                }
                self._call("write", functools.partial(write, **batch))
        # an id taken outside the scope between the check and `add` kept its document
        lost = sorted(set(ids) - self._in_scope(ids))
        result: dict[str, Any] = {"added": len(fresh) - len(lost), "replaced": len(replaced)}
        if lost:
            result["refused"] = lost
            result["note"] = "These ids were taken meanwhile outside this scope; use other ids."
        return result

    def delete_documents(self, ids: Sequence[str]) -> dict[str, Any]:
        """Delete documents by id.

        Args:
            ids: the ids to delete
        """
        self._check_writes()
        if not ids:
            raise ChromaToolError("Send at least one id.")
        found = self._in_scope(list(ids))
        if found:
            kwargs: dict[str, Any] = {"ids": sorted(found)}
            if self.where:
                kwargs["where"] = self.where  # Chroma itself keeps the delete inside the scope
            self._call("delete", lambda: self.collection.delete(**kwargs))
        return {"deleted": len(found), "not_found": sorted(set(ids) - found)}

    def _check_writes(self) -> None:
        if not self.allow_writes:
            raise ChromaRefusedError(
                "This Chroma toolkit is read-only: adding and deleting documents is not enabled."
            )

    def _in_scope(self, ids: list[str]) -> set[str]:
        """Which of these ids exist inside the toolkit's scope."""
        if not ids:
            return set()
        got = self._call("read", lambda: self.collection.get(ids=ids, where=self.where, include=[]))
        return set(got["ids"])

    def _call(self, what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except (ValueError, TypeError) as exc:  # Chroma's own checks of a filter or a value
            raise ChromaUpstreamError(f"Chroma rejected the {what}: {exc}") from None
        except Exception as exc:
            logger.warning("Chroma %s failed: %r", what, exc)
            raise ChromaUpstreamError(f"Chroma failed to {what}. Try again later.") from None

    def _where(self, extra: Mapping[str, Any] | None) -> dict[str, Any] | None:
        parts = [p for p in (self.where, dict(extra) if extra else None) if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}


def _equalities(where: Mapping[str, Any]) -> dict[str, Any] | None:
    """The metadata a scope pins (`{"k": v}`, `{"k": {"$eq": v}}`, `$and` of them), or None."""
    pinned: dict[str, Any] = {}
    for key, value in where.items():
        if key == "$and" and isinstance(value, list):
            for part in value:
                inner = _equalities(part) if isinstance(part, Mapping) else None
                if inner is None:
                    return None
                pinned.update(inner)
        elif key.startswith("$"):
            return None
        elif isinstance(value, Mapping):
            if set(value) != {"$eq"}:
                return None
            pinned[key] = value["$eq"]
        else:
            pinned[key] = value
    return pinned
