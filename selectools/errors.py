"""One exception hierarchy: every message says what happened and what to do next.

Each error also says how a web adapter answers it: `http_status`,
`error_type` (the stable `error.type` on the wire) and `http_headers`, so the
mapping from exceptions to HTTP lives with the exceptions, not in each adapter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import ClassVar

__all__ = [
    "CircuitOpenError",
    "ContextLengthError",
    "GuardrailRefused",
    "InvalidInputError",
    "MaxIterationsError",
    "MissingDependencyError",
    "ProviderAuthError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "ProviderUnavailableError",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimitedError",
    "RunTimeoutError",
    "SelectoolsError",
    "SessionNotFoundError",
    "ToolArgumentError",
    "ToolDefinitionError",
    "ToolExecutionError",
    "refuse_class",
    "retry_after_headers",
]


class SelectoolsError(Exception):
    """Base class of every error selectools raises on purpose."""

    default_status: ClassVar[int] = 500

    @property
    def http_status(self) -> int:
        """The HTTP status a web adapter answers with."""
        return self.default_status

    @property
    def error_type(self) -> str:
        """A stable name for clients: the class name in snake case (`RateLimitError` ->
        `rate_limit_error`)."""
        return _snake_case(type(self).__name__)

    @property
    def http_headers(self) -> dict[str, str]:
        """Extra response headers (Retry-After, say)."""
        return {}


def _snake_case(name: str) -> str:
    # RateLimitError -> rate_limit_error; acronyms stay whole: MCPToolError -> mcp_tool_error
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def refuse_class(
    value: object, role: str, *, owner: str, error: type[TypeError] = TypeError
) -> None:
    """A class where its instance belongs (`policies=[Retry]`), the commonest slip in a
    list of plugins, is refused by name instead of failing at its first call."""
    if isinstance(value, type):
        raise error(
            f"{owner} got the class {value.__name__} as {role}; pass an instance: "
            f"{value.__name__}(...)."
        )


def retry_after_headers(seconds: float | None) -> dict[str, str]:
    """`Retry-After` in whole seconds, rounded up: a client that waits less comes back early."""
    if seconds is None:
        return {}
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


class InvalidInputError(SelectoolsError, ValueError):
    """The run's input is malformed (no messages, a bad role); HTTP adapters answer 422."""

    default_status = 422


class ToolDefinitionError(SelectoolsError, TypeError):
    """A function cannot become a tool; raised at registration, never at run time."""


class ToolArgumentError(SelectoolsError, ValueError):
    """The model sent arguments that do not fit the tool's schema (sent back to the model)."""

    default_status = 422


class ToolExecutionError(SelectoolsError):
    """A tool raised or timed out; the run reports it to the model and goes on."""

    def __init__(self, message: str, *, tool_name: str) -> None:
        super().__init__(message)
        self.tool_name = tool_name


class ProviderError(SelectoolsError):
    """The model provider failed; `status_code` is the upstream HTTP status when known.

    `detail` keeps the upstream's own error text for logs and Python callers; the
    message (what web clients see) never includes it.
    """

    default_status = 502

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status_code: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code
        self.detail = detail

    @property
    def http_status(self) -> int:
        # A 400 (bad input) or 429 upstream is the client's to see; an overloaded or
        # unavailable upstream (503, Anthropic's 529) is a 503: the client may retry
        # later; anything else is ours (502).
        if self.status_code in (400, 429):
            return self.status_code
        if self.status_code in (503, 529):
            return 503
        return self.default_status


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

    @property
    def http_headers(self) -> dict[str, str]:
        return retry_after_headers(self.retry_after)


class ProviderTimeoutError(ProviderError):
    """The provider did not answer in time."""

    default_status = 504


class ProviderConnectionError(ProviderError):
    """The provider could not be reached at all."""


class ContextLengthError(ProviderError):
    """The conversation no longer fits the model's context window."""

    default_status = 400


class ProviderUnavailableError(ProviderError):
    """No provider could answer: every one failed or is switched off (HTTP 503 with Retry-After).

    `errors` holds each provider's failure, in the order they were tried.
    """

    default_status = 503

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        retry_after: float | None = None,
        errors: Sequence[BaseException] = (),
    ) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after
        self.errors = tuple(errors)

    @property
    def error_type(self) -> str:
        return "provider_unavailable"

    @property
    def http_headers(self) -> dict[str, str]:
        return retry_after_headers(self.retry_after)


class CircuitOpenError(ProviderUnavailableError):
    """A circuit breaker skips a provider that kept failing; no request was made."""

    @property
    def error_type(self) -> str:
        return "circuit_open"


class RateLimitedError(SelectoolsError):
    """A caller went over one of our rate limits (not the provider's): HTTP 429 with Retry-After."""

    default_status = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def error_type(self) -> str:
        return "rate_limited"

    @property
    def http_headers(self) -> dict[str, str]:
        return retry_after_headers(self.retry_after)


class QuotaExceededError(SelectoolsError):
    """A caller used up a token or cost quota: HTTP 429 with Retry-After (when it renews)."""

    default_status = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def error_type(self) -> str:
        return "quota_exceeded"

    @property
    def http_headers(self) -> dict[str, str]:
        return retry_after_headers(self.retry_after)


class GuardrailRefused(SelectoolsError):
    """A guardrail refused a user message or an answer (HTTP 422 `guardrail_refused`).

    `guardrail` names the check and `stage` where it ran (`input`, `output`,
    `tool_arguments`, `tool_result`); the message says why, never the text itself.
    """

    default_status = 422

    def __init__(self, message: str, *, guardrail: str = "", stage: str = "") -> None:
        super().__init__(message)
        self.guardrail = guardrail
        self.stage = stage


class MaxIterationsError(SelectoolsError):
    """The model kept calling tools past `AgentConfig.max_iterations`."""

    default_status = 422

    def __init__(self, message: str, *, partial: object | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class RunTimeoutError(SelectoolsError, TimeoutError):
    """The whole run exceeded `AgentConfig.run_timeout`; `partial` is the result so far
    (what its model calls used: a quota charges a run that timed out)."""

    default_status = 504

    def __init__(self, message: str, *, partial: object | None = None) -> None:
        super().__init__(message)
        self.partial = partial


class SessionNotFoundError(SelectoolsError, LookupError):
    """No conversation is stored under that session id (or it belongs to someone else)."""

    default_status = 404


class MissingDependencyError(SelectoolsError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""
