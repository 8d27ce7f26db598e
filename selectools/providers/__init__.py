"""Model providers. No SDK is imported until a provider makes its first call, and each
provider's module loads with the first use of its name (`import selectools` stays lean)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports
from .base import ModelRequest, ModelResponse, Provider, TextChunk

if TYPE_CHECKING:
    from .anthropic import AnthropicProvider
    from .bedrock import BedrockProvider
    from .fallback import FallbackProvider
    from .openai import OpenAIProvider
    from .recording import CassetteMismatchError, RecordingProvider, ReplayProvider
    from .scripted import Reply, ScriptedCall, ScriptedProvider, call

_LAZY = {
    "AnthropicProvider": ".anthropic",
    "BedrockProvider": ".bedrock",
    "CassetteMismatchError": ".recording",
    "FallbackProvider": ".fallback",
    "OpenAIProvider": ".openai",
    "RecordingProvider": ".recording",
    "ReplayProvider": ".recording",
    "Reply": ".scripted",
    "ScriptedCall": ".scripted",
    "ScriptedProvider": ".scripted",
    "call": ".scripted",
}
if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)

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
