"""selectools: LLM agents with tool calling for the apps you already run.

The core imports nothing heavy: SDKs, web frameworks and databases load only
when the feature that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .agent import Agent
from .config import AgentConfig
from .content import ContentPart
from .context import RunContext
from .errors import (
    CircuitOpenError,
    ContextLengthError,
    GuardrailRefused,
    InvalidInputError,
    MaxIterationsError,
    MissingDependencyError,
    ProviderAuthError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    QuotaExceededError,
    RateLimitedError,
    RateLimitError,
    RunTimeoutError,
    SelectoolsError,
    SessionNotFoundError,
    ToolArgumentError,
    ToolDefinitionError,
    ToolExecutionError,
)
from .events import (
    ApprovalDecided,
    ApprovalRequested,
    Event,
    RunFailed,
    RunFinished,
    RunStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
)
from .lazy import lazy_exports
from .memory import ConversationMemory
from .messages import Message, RunInput, ToolCall
from .observers import Observer
from .policies import ProviderWrapper, ToolPolicy
from .providers.base import ModelRequest, ModelResponse, Provider, TextChunk
from .results import AgentResult, ToolCallRecord
from .sessions import InMemorySessionStore, SessionStore, StoredSession
from .tools import (
    RefusedError,
    Tool,
    ToolInvocation,
    Toolkit,
    ToolkitError,
    ToolSet,
    UpstreamError,
    tool,
)
from .usage import Usage

if TYPE_CHECKING:
    from .providers import (
        AnthropicProvider,
        BedrockProvider,
        OpenAIProvider,
        Reply,
        ScriptedProvider,
        call,
    )
    from .structured import OutputValidationError
    from .tools import ToolLoader, compose, load_tools, step

# Each loads with its first use: a program pays only for the providers and features it uses.
_LAZY = {
    "AnthropicProvider": ".providers",
    "BedrockProvider": ".providers",
    "OpenAIProvider": ".providers",
    "OutputValidationError": ".structured",
    "Reply": ".providers",
    "ScriptedProvider": ".providers",
    "ToolLoader": ".tools",
    "call": ".providers",
    "compose": ".tools",
    "load_tools": ".tools",
    "step": ".tools",
}
if not TYPE_CHECKING:  # type checkers see the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(globals(), _LAZY)


__version__ = "0.5.0"

__all__ = [
    "Agent",
    "AgentConfig",
    "AgentResult",
    "AnthropicProvider",
    "ApprovalDecided",
    "ApprovalRequested",
    "BedrockProvider",
    "CircuitOpenError",
    "ContentPart",
    "ContextLengthError",
    "ConversationMemory",
    "Event",
    "GuardrailRefused",
    "InMemorySessionStore",
    "InvalidInputError",
    "MaxIterationsError",
    "Message",
    "MissingDependencyError",
    "ModelRequest",
    "ModelResponse",
    "Observer",
    "OpenAIProvider",
    "OutputValidationError",
    "Provider",
    "ProviderAuthError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "ProviderWrapper",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimitedError",
    "RefusedError",
    "Reply",
    "RunContext",
    "RunFailed",
    "RunFinished",
    "RunInput",
    "RunStarted",
    "RunTimeoutError",
    "ScriptedProvider",
    "SelectoolsError",
    "SessionNotFoundError",
    "SessionStore",
    "StoredSession",
    "TextChunk",
    "TextDelta",
    "Tool",
    "ToolArgumentError",
    "ToolCall",
    "ToolCallFinished",
    "ToolCallRecord",
    "ToolCallStarted",
    "ToolDefinitionError",
    "ToolExecutionError",
    "ToolInvocation",
    "ToolLoader",
    "ToolPolicy",
    "ToolProgress",
    "ToolSet",
    "Toolkit",
    "ToolkitError",
    "UpstreamError",
    "Usage",
    "call",
    "compose",
    "load_tools",
    "step",
    "tool",
    "__version__",
]
