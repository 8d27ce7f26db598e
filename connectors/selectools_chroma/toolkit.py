"""ChromaToolkit: search a collection (and, when allowed, add to it or delete from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from selectools import Tool
from selectools.tools import method_tool

__all__ = ["ChromaToolkit", "NewDocument"]


class NewDocument(BaseModel):
    """A document to add."""

    id: str = Field(min_length=1, description="a unique id")
    text: str = Field(min_length=1, description="the document's text")
    metadata: dict[str, str | int | float | bool] | None = Field(
        default=None, description="optional flat metadata, used by filters"
    )


class ChromaToolkit:
    """Tools over one Chroma collection, chosen at construction (never by the model).

    Pass a collection, or a client and a name. The embedding function is your
    choice and must match how the collection was built; `HashingEmbeddingFunction`
    works offline, a SentenceTransformer one gives real semantic search.

    Args:
        collection: a chromadb Collection.
        client, name: a chromadb client (Ephemeral, Persistent or Http) and a
            collection name (3+ characters), created if missing.
        embedding_function: used when the toolkit creates or opens the collection.
        n_results: results per search by default; max_results caps what the model may ask.
        where: a metadata filter always applied (e.g. the tenant), combined with the model's.
        allow_writes: adds the add and delete tools.
        max_document_chars: documents longer than this are cut in results.
    """

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
        self.allow_writes = allow_writes
        self.max_document_chars = max_document_chars
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        made = [self._tool(self.search_documents)]
        if self.allow_writes:
            made += [self._tool(self.add_documents), self._tool(self.delete_documents)]
        return made

    def _tool(self, method: Any) -> Tool:
        return method_tool(method, prefix=self.name_prefix)

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
        try:
            found = self.collection.query(**kwargs)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"Chroma rejected the search: {exc}") from None
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

    def add_documents(self, documents: list[NewDocument]) -> dict[str, Any]:
        """Add documents to the collection (existing ids are replaced).

        Args:
            documents: the documents to store
        """
        if not documents:
            raise ValueError("Send at least one document.")
        fixed = {k: v for k, v in (self.where or {}).items() if not k.startswith("$")}
        self.collection.upsert(
            ids=[d.id for d in documents],
            documents=[d.text for d in documents],
            metadatas=[{**(d.metadata or {}), **fixed} or None for d in documents],
        )
        return {"added": len(documents)}

    def delete_documents(self, ids: list[str]) -> dict[str, Any]:
        """Delete documents by id.

        Args:
            ids: the ids to delete
        """
        if not ids:
            raise ValueError("Send at least one id.")
        kwargs: dict[str, Any] = {"ids": ids}
        if self.where:
            kwargs["where"] = self.where  # only inside the fixed scope
        existing = self.collection.get(**kwargs)["ids"]
        if existing:
            self.collection.delete(ids=existing)
        return {"deleted": len(existing), "not_found": sorted(set(ids) - set(existing))}

    def _where(self, extra: Mapping[str, Any] | None) -> dict[str, Any] | None:
        parts = [p for p in (self.where, dict(extra) if extra else None) if p]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}
