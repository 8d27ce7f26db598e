"""The one shape every policy takes: a wrapper around the provider, an interceptor around tools.

Observers watch a run; policies change it. A policy is any object with one or
both of these faces, composed in a list on the agent (`Agent(policies=[...])`,
first listed = outermost):

- **provider face**: `wrap(provider) -> Provider` returns a provider that
  calls the one it wraps (retry, fallback, circuit breaker, cache, rate limit).
  Subclass `ProviderWrapper` and override only the calls you change.
- **tool face**: `before_tool(invocation)` and/or `after_tool(invocation, record)`
  (sync or `async def`) around every tool call (approval, audit, guardrails,
  per-tool limits). `before_tool` returns None to go on, a changed
  `ToolInvocation` to go on with other arguments, or a `ToolCallRecord`
  (`invocation.refuse(...)`, `invocation.succeed(...)`) that stands in for
  the call; `after_tool` returns None or a replacement record. Hooks run in
  list order before the call and in reverse order after it. An exception from
  a hook fails the run; to tell the model instead, return `invocation.refuse()`.
  A policy that keeps records may add a sync `tool_abandoned(invocation, exc)`:
  it is called when the call is cut off (the run cancelled or failing mid-call),
  where `after_tool` never runs.

A tool's own policies (`@tool(policies=[...])`) run inside the agent's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from typing import Protocol, TypeAlias, runtime_checkable

from ..errors import refuse_class
from ..providers.base import ModelRequest, ModelResponse, Provider, TextChunk
from ..results import ToolCallRecord
from ..tools.calling import ToolInvocation
from ..tools.tool import intercepts_tools

__all__ = [
    "BeforeTool",
    "ProviderPolicy",
    "ProviderWrapper",
    "ToolPolicy",
    "checked_policies",
    "compose_provider",
    "run_hooks",
    "tool_policies",
]

BeforeTool: TypeAlias = ToolInvocation | ToolCallRecord | None


@runtime_checkable
class ProviderPolicy(Protocol):
    """A policy with a provider face."""

    def wrap(self, provider: Provider) -> Provider: ...


class ToolPolicy:
    """Base for policies with a tool face; override either hook (sync or `async def`)."""

    def before_tool(self, invocation: ToolInvocation) -> BeforeTool | Awaitable[BeforeTool]:
        return None

    def after_tool(
        self, invocation: ToolInvocation, record: ToolCallRecord
    ) -> ToolCallRecord | Awaitable[ToolCallRecord | None] | None:
        return None


class ProviderWrapper:
    """A provider that forwards every call to `inner`; override the calls a policy changes.

    `name` and `model` are the inner provider's, so usage, pricing and
    traces still name the model that answered.
    """

    def __init__(self, inner: Provider) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def model(self) -> str:
        return self.inner.model

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"

    def complete(self, request: ModelRequest) -> ModelResponse:
        return self.inner.complete(request)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        return await self.inner.acomplete(request)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        return self.inner.stream(request)

    def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        return self.inner.astream(request)


def checked_policies(policies: Iterable[object]) -> tuple[object, ...]:
    """`policies` as a tuple, each one a policy: a class where its instance belongs, or
    an object with no face at all, would otherwise be ignored or fail mid-run."""
    checked = tuple(policies)
    for policy in checked:
        refuse_class(policy, "a policy", owner="Agent")
        if not (
            isinstance(policy, ProviderPolicy) or intercepts_tools(policy) or _watches_runs(policy)
        ):
            raise TypeError(
                f"Agent got {policy!r:.100} as a policy, which is not one: a policy has "
                f"wrap(provider), before_tool/after_tool, or on_* run hooks "
                f"(see selectools.policies)."
            )
    return checked


def compose_provider(provider: Provider, policies: Iterable[object]) -> Provider:
    """Wrap `provider` in every policy's provider face; the first policy ends up outermost."""
    for policy in reversed(list(policies)):
        if isinstance(policy, ProviderPolicy):
            provider = policy.wrap(provider)
    return provider


def tool_policies(policies: Iterable[object]) -> tuple[ToolPolicy, ...]:
    """The policies with a tool face, in order."""
    return tuple(policy for policy in policies if intercepts_tools(policy))  # type: ignore[misc]


def run_hooks(policies: Iterable[object]) -> tuple[object, ...]:
    """The policies that also watch runs: any observer hook (`on_run_start`, or
    `on_approval_decided` for an audit log) makes a policy an observer too."""
    return tuple(policy for policy in policies if _watches_runs(policy))


def _watches_runs(policy: object) -> bool:
    return any(name.startswith("on_") for name in dir(policy))
