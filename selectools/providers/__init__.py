"""Model providers. No SDK is imported until a provider makes its first call."""

from __future__ import annotations

from .base import ModelRequest, ModelResponse, Provider, TextChunk
from .fallback import FallbackProvider
from .openai import OpenAIProvider
from .scripted import Reply, ScriptedCall, ScriptedProvider, call

__all__ = [
    "FallbackProvider",
    "ModelRequest",
    "ModelResponse",
    "OpenAIProvider",
    "Provider",
    "Reply",
    "ScriptedCall",
    "ScriptedProvider",
    "TextChunk",
    "call",
]
