"""selectools: LLM agents with tool calling for the apps you already run.

The core imports nothing heavy: SDKs, web frameworks and databases load only
when the feature that needs them is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from .memory import ConversationMemory
from .messages import Message, RunInput, ToolCall
from .observers import Observer
from .policies import ProviderWrapper, ToolPolicy
from .providers import (
    AnthropicProvider,
    BedrockProvider,
    ModelRequest,
    ModelResponse,
    OpenAIProvider,
    Provider,
    Reply,
    ScriptedProvider,
    TextChunk,
    call,
)
from .results import AgentResult, ToolCallRecord
from .sessions import InMemorySessionStore, SessionStore, StoredSession
from .structured import OutputValidationError
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
    from .tools import ToolLoader, compose, load_tools, step

_LAZY = {"ToolLoader", "compose", "load_tools", "step"}  # load with their first use


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import tools

    value = getattr(tools, name)
    globals()[name] = value
    return value


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
