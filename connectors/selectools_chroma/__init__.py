"""A Chroma collection as agent tools: semantic search, and opt-in writes."""

from __future__ import annotations

from selectools._optional import require

require("chromadb", extra="chroma", feature="selectools_chroma")

from .embeddings import HashingEmbeddingFunction  # noqa: E402
from .toolkit import ChromaToolkit  # noqa: E402

__all__ = ["ChromaToolkit", "HashingEmbeddingFunction"]
