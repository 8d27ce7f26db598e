"""A Chroma collection as agent tools: semantic search, and opt-in writes."""

from __future__ import annotations

from selectools.extras import require

require("chromadb", extra="chroma", feature="selectools_chroma")

from .embeddings import HashingEmbeddingFunction, minilm_embedding_function  # noqa: E402
from .errors import ChromaRefusedError, ChromaToolError, ChromaUpstreamError  # noqa: E402
from .toolkit import ChromaToolkit, NewDocument  # noqa: E402

__all__ = [
    "ChromaRefusedError",
    "ChromaToolError",
    "ChromaToolkit",
    "ChromaUpstreamError",
    "HashingEmbeddingFunction",
    "NewDocument",
    "minilm_embedding_function",
]
