"""One exception hierarchy: every message says what happened and what to do next."""

from __future__ import annotations

__all__ = [
    "ContextLengthError",
    "InvalidInputError",
    "MaxIterationsError",
    "MissingDependencyError",
    "ProviderAuthError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RunTimeoutError",
    "SelectoolsError",
    "SessionNotFoundError",
    "ToolArgumentError",
    "ToolDefinitionError",
    "ToolExecutionError",
]


class SelectoolsError(Exception):
    """Base class of every error selectools raises on purpose."""


class InvalidInputError(SelectoolsError, ValueError):
    """The run's input is malformed (no messages, a bad role); HTTP adapters answer 422."""


class ToolDefinitionError(SelectoolsError, TypeError):
    """A function cannot become a tool; raised at registration, never at run time."""


class ToolArgumentError(SelectoolsError, ValueError):
    """The model sent arguments that do not fit the tool's schema (sent back to the model)."""


class ToolExecutionError(SelectoolsError):
    """A tool raised or timed out; the run reports it to the model and goes on."""

    def __init__(self, message: str, *, tool_name: str) -> None:
        super().__init__(message)
        self.tool_name = tool_name


class ProviderError(SelectoolsError):
    """The model provider failed; `status_code` is the upstream HTTP status when known."""

    default_status = 502

    def __init__(self, message: str, *, provider: str = "", status_code: int | None = None) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code


class ProviderAuthError(ProviderError):
    """The provider rejected the credentials (HTTP 401/403 upstream)."""


class RateLimitError(ProviderError):
    """The provider is rate limiting; `retry_after` is in seconds when the provider said."""

    default_status = 429

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status_code=status_code)
        self.retry_after = retry_after


class ProviderTimeoutError(ProviderError):
    """The provider did not answer in time."""

    default_status = 504


class ProviderConnectionError(ProviderError):
    """The provider could not be reached at all."""


class ContextLengthError(ProviderError):
    """The conversation no longer fits the model's context window."""

    default_status = 400


class MaxIterationsError(SelectoolsError):
    """The model kept calling tools past `AgentConfig.max_iterations`."""

    def __init__(self, message: str, *, partial: object | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class RunTimeoutError(SelectoolsError, TimeoutError):
    """The whole run exceeded `AgentConfig.run_timeout`."""


class SessionNotFoundError(SelectoolsError, LookupError):
    """No conversation is stored under that session id (or it belongs to someone else)."""


class MissingDependencyError(SelectoolsError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""
