"""Model providers. No SDK is imported until a provider makes its first call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .anthropic import AnthropicProvider
from .base import ModelRequest, ModelResponse, Provider, TextChunk
from .bedrock import BedrockProvider
from .fallback import FallbackProvider
from .openai import OpenAIProvider
from .scripted import Reply, ScriptedCall, ScriptedProvider, call

if TYPE_CHECKING:
    from .recording import CassetteMismatchError, RecordingProvider, ReplayProvider

__all__ = [
    "AnthropicProvider",
    "BedrockProvider",
    "CassetteMismatchError",
    "FallbackProvider",
    "ModelRequest",
    "ModelResponse",
    "OpenAIProvider",
    "Provider",
    "RecordingProvider",
    "Reply",
    "ReplayProvider",
    "ScriptedCall",
    "ScriptedProvider",
    "TextChunk",
    "call",
]


def __getattr__(name: str) -> Any:
    if name in {"CassetteMismatchError", "RecordingProvider", "ReplayProvider"}:
        from . import recording  # loads with its first use, like the policies

        return getattr(recording, name)
    raise AttributeError(f"module 'selectools.providers' has no attribute {name!r}")
