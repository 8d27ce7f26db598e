"""The Agent: tools, a provider and a system prompt, run sync, async or streamed."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, overload

from .approval.flow import Resumption, resume, resume_sync
from .config import AgentConfig
from .events import Event, RunFinished
from .loop import AsyncRunEvents, Run, RunEvents, RunSetup, drive, drive_async
from .memory import ConversationMemory
from .messages import RunInput
from .observers import ObserverHub, checked_observers
from .policies.base import checked_policies, compose_provider, run_hooks, tool_policies
from .providers.base import Provider
from .results import AgentResult
from .structured import (
    StructuredOutput,
    astructured_events,
    structured_events,
    structured_result,
)
from .telemetry.switch import auto_policies
from .tools.tool import Tool, ToolSet
from .tools.toolkit import Toolkit
from .usage import Usage, UsageTotals

if TYPE_CHECKING:
    import os

    from .analytics import AnalyticsReport
    from .approval.records import Decisions
    from .batch import BatchProgress, BatchResults, Checkpoint
    from .policies.quota import Quota
    from .policies.ratelimit import RateLimiter

__all__ = ["Agent", "RunInput"]

T = TypeVar("T")


class Agent:
    """A model with tools. Safe to share: every run keeps its own state.

    Without `session_id` a run starts fresh; with one, it continues that
    conversation from `memory` (in-process by default; pass a
    ConversationMemory over a SQLAlchemySessionStore to share it between
    workers and survive restarts).

    `tools` takes tools, typed functions and toolkits (each toolkit's tools
    are added). `agent.tools.add/replace/remove` change them while the agent
    serves: the next run sees the change. `policies` wrap the provider and
    intercept tool calls (see `selectools.policies`); the first listed is the
    outermost. `cache` (a `ResponseCache` or `SemanticCache`) is the innermost
    provider policy: a hit skips retries, fallbacks and the model.
    """

    def __init__(
        self,
        tools: Iterable[Tool | Toolkit | Callable[..., Any]] = (),
        provider: Provider | None = None,
        *,
        system_prompt: str | None = None,
        config: AgentConfig | None = None,
        memory: ConversationMemory | None = None,
        observers: Iterable[object] = (),
        policies: Iterable[object] = (),
        cache: object | None = None,
        name: str = "agent",
    ) -> None:
        if provider is None:
            from .providers.openai import OpenAIProvider

            provider = OpenAIProvider()
        elif not isinstance(provider, Provider):
            raise TypeError(
                f"Agent(provider=...) needs a Provider (complete, acomplete, stream, astream, "
                f"name and model), got {provider!r:.60}; for OpenAI: "
                f'OpenAIProvider("gpt-4o-mini").'
            )
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise TypeError(
                f"Agent(system_prompt=...) must be a string or None, "
                f"got {type(system_prompt).__name__}."
            )
        self.tools = ToolSet(_flatten(tools))
        self.provider = provider
        self.cache = cache
        listed = checked_policies((*policies, cache) if cache is not None else policies)
        self.policies = auto_policies(name, listed)  # tracing first when opted in
        self._tool_policies = tool_policies(self.policies)
        self._wrapped: tuple[Provider, Provider] | None = None  # (provider, with policies)
        self.system_prompt = system_prompt
        self.config = config or AgentConfig()
        self.memory = memory or ConversationMemory()
        watchers = checked_observers(observers)  # a policy also listed is called once
        extra = [p for p in run_hooks(self.policies) if not any(p is w for w in watchers)]
        self.observers = ObserverHub((*watchers, *extra))
        self.name = name
        self.totals = UsageTotals()

    @classmethod
    def from_spec(cls, path: str | os.PathLike[str], *, tools: Iterable[Any] = ()) -> Agent:
        """The agent a YAML/TOML/JSON spec file describes (see `selectools.spec`);
        `tools` are added to the spec's own. Keys come from the environment."""
        from .spec import AgentSpec

        agent: Agent = AgentSpec.load(path).build(extra_tools=tools)
        return agent

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r}, tools={list(self.tools)}, provider={self.provider!r})"

    @property
    def usage(self) -> Usage:
        """Cumulative usage of all runs of this agent in this process."""
        return self.totals.usage

    @overload
    def run(
        self,
        input: RunInput,
        *,
        session_id: str | None = ...,
        identity: str | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: None = ...,
        output_retries: int = ...,
    ) -> AgentResult[str]: ...

    @overload
    def run(
        self,
        input: RunInput,
        *,
        session_id: str | None = ...,
        identity: str | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: type[T],
        output_retries: int = ...,
    ) -> AgentResult[T]: ...

    @overload
    def run(
        self,
        input: RunInput,
        *,
        session_id: str | None = ...,
        identity: str | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: object,  # a JSON Schema dict, a union, a Literal, Annotated, ...
        output_retries: int = ...,
    ) -> AgentResult[Any]: ...

    def run(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> AgentResult[Any]:
        """Run to the final answer, blocking; fine inside a running event loop.

        `output_type` (a pydantic model, dataclass, TypedDict, primitive or a
        JSON Schema dict) makes `result.output` that type; see `selectools.structured`.
        """
        run = self._run(input, session_id, identity, metadata, config, output_type, output_retries)
        result: AgentResult[Any] | None = None
        for event in drive(run, stream_model=False, quiet=True):
            if isinstance(event, RunFinished):
                result = event.result
        assert result is not None, "a completed run always ends with RunFinished"
        return structured_result(result, output_type)

    @overload
    async def arun(
        self,
        input: RunInput,
        *,
        session_id: str | None = ...,
        identity: str | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: None = ...,
        output_retries: int = ...,
    ) -> AgentResult[str]: ...

    @overload
    async def arun(
        self,
        input: RunInput,
        *,
        session_id: str | None = ...,
        identity: str | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: type[T],
        output_retries: int = ...,
    ) -> AgentResult[T]: ...

    @overload
    async def arun(
        self,
        input: RunInput,
        *,
        session_id: str | None = ...,
        identity: str | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: object,  # a JSON Schema dict, a union, a Literal, Annotated, ...
        output_retries: int = ...,
    ) -> AgentResult[Any]: ...

    async def arun(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> AgentResult[Any]:
        """Run to the final answer without blocking the event loop (sync tools use threads)."""
        run = self._run(input, session_id, identity, metadata, config, output_type, output_retries)
        result: AgentResult[Any] | None = None
        async for event in drive_async(run, stream_model=False, quiet=True):
            if isinstance(event, RunFinished):
                result = event.result
        assert result is not None, "a completed run always ends with RunFinished"
        return structured_result(result, output_type)

    def stream(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> RunEvents:
        """Yield events as they happen; the last one is RunFinished with the result."""
        run = self._run(input, session_id, identity, metadata, config, output_type, output_retries)
        return RunEvents(run, structured_events(drive(run, stream_model=True), output_type))

    def astream(
        self,
        input: RunInput,
        *,
        session_id: str | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> AsyncRunEvents:
        """Async `stream()`. Close it (or cancel the task) to stop the run and its tools."""
        run = self._run(input, session_id, identity, metadata, config, output_type, output_retries)
        events = astructured_events(drive_async(run, stream_model=True), output_type)
        return AsyncRunEvents(run, events)

    async def abatch(
        self,
        inputs: Iterable[RunInput],
        *,
        concurrency: int = 8,
        progress: bool | None = None,
        checkpoint: str | os.PathLike[str] | Checkpoint | None = None,
        rate_limit: RateLimiter | str | None = None,
        quota: Quota | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        on_progress: Callable[[BatchProgress], Any] | None = None,
    ) -> BatchResults:
        """Run every input, at most `concurrency` at once; outcomes in input order.

        Each outcome is an AgentResult or the exception that ended that run.
        `progress`: a bar with rate, ETA, tokens and cost (None: only on a
        terminal). Options: `checkpoint=` (a path or Checkpoint: a restarted
        batch skips finished items), `rate_limit=` (a shared RateLimiter; the
        batch waits its turn), `quota=`, `identity=`, `metadata=`, `config=`,
        `on_progress=`. See `selectools.batch`.
        """
        from .batch import run_agent_batch

        return await run_agent_batch(
            self,
            inputs,
            concurrency=concurrency,
            progress=progress,
            checkpoint=checkpoint,
            rate_limit=rate_limit,
            quota=quota,
            identity=identity,
            metadata=metadata,
            config=config,
            on_progress=on_progress,
        )

    def batch(
        self,
        inputs: Iterable[RunInput],
        *,
        concurrency: int = 8,
        progress: bool | None = None,
        checkpoint: str | os.PathLike[str] | Checkpoint | None = None,
        rate_limit: RateLimiter | str | None = None,
        quota: Quota | None = None,
        identity: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        on_progress: Callable[[BatchProgress], Any] | None = None,
    ) -> BatchResults:
        """`abatch`, blocking; fine inside a running event loop. Ctrl-C stops it, and
        with a checkpoint the next call carries on where it stopped."""
        from .bridge import run_coroutine_sync

        batch = self.abatch(
            inputs,
            concurrency=concurrency,
            progress=progress,
            checkpoint=checkpoint,
            rate_limit=rate_limit,
            quota=quota,
            identity=identity,
            metadata=metadata,
            config=config,
            on_progress=on_progress,
        )
        return run_coroutine_sync(batch)

    def analytics(
        self, *, identity: str | None = None, session_id: str | None = None
    ) -> AnalyticsReport:
        """Tool calls, errors and latency percentiles; runs, tokens and cost per identity and
        session, from this agent's `Analytics` policy (everyone's unless `identity=`)."""
        from .analytics import Analytics

        for policy in self.policies:
            if isinstance(policy, Analytics):
                return policy.report(identity=identity, session_id=session_id)
        raise LookupError(
            "This agent keeps no analytics. Add Analytics() to its policies (in memory), "
            "or Analytics(SQLAnalyticsStore(url)) to share them between workers."
        )

    def debug(
        self,
        input: RunInput,
        *,
        handler: Callable[[Any], Any] | None = None,
        dry_run: bool = False,
        **options: Any,
    ) -> AgentResult:
        """Run once, pausing before each model and tool call (see `selectools.debug`);
        without `handler`, a terminal prompt decides. `dry_run=True` runs no tool."""
        from .debug import debug_run

        return debug_run(self, input, handler=handler, dry_run=dry_run, **options)[0]

    # -- runs paused for approval ----------------------------------------------------

    @overload
    def resume(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: type[T],
        output_retries: int = ...,
    ) -> AgentResult[T]: ...

    @overload
    def resume(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: object = ...,
        output_retries: int = ...,
    ) -> AgentResult[Any]: ...

    def resume(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> AgentResult[Any]:
        """Decide a paused run's pending calls and run on to the answer (or the next pause).

        `key` is the result's `approval_id`, its `run_id` or its session id;
        `decisions` is True/False (or a `Decision` with a reason) for every
        pending call, or a mapping of call id to one. Only the run's identity
        may decide (`ApprovalNotFoundError` for others); a second decision of
        the same approval raises `ApprovalDecidedError`. A run started with a
        JSON Schema `output_type` asks for it again by itself; one started with
        a Python type needs it again here (`output_type=`), as it cannot be stored.
        """
        run, resumed = resume_sync(
            self._setup(), self.config, key, decisions, identity, overrides=config
        )
        output = self._ask_for_output_again(run, resumed, output_type, output_retries)
        result = _final(drive(run, stream_model=False, resumed=resumed, quiet=True))
        return structured_result(result, output)

    @overload
    async def aresume(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: type[T],
        output_retries: int = ...,
    ) -> AgentResult[T]: ...

    @overload
    async def aresume(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = ...,
        config: AgentConfig | Mapping[str, Any] | None = ...,
        output_type: object = ...,
        output_retries: int = ...,
    ) -> AgentResult[Any]: ...

    async def aresume(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> AgentResult[Any]:
        """Async `resume`."""
        run, resumed = await resume(
            self._setup(), self.config, key, decisions, identity, overrides=config
        )
        output = self._ask_for_output_again(run, resumed, output_type, output_retries)
        result: AgentResult | None = None
        async for event in drive_async(run, stream_model=False, resumed=resumed, quiet=True):
            if isinstance(event, RunFinished):
                result = event.result
        assert result is not None, "a completed run always ends with RunFinished"
        return structured_result(result, output)

    def resume_stream(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> RunEvents:
        """`resume`, yielding events; the approval is claimed before this returns."""
        run, resumed = resume_sync(
            self._setup(), self.config, key, decisions, identity, overrides=config
        )
        output = self._ask_for_output_again(run, resumed, output_type, output_retries)
        return RunEvents(
            run, structured_events(drive(run, stream_model=True, resumed=resumed), output)
        )

    async def aresume_stream(
        self,
        key: str,
        decisions: Decisions,
        *,
        identity: str | None = None,
        config: AgentConfig | Mapping[str, Any] | None = None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> AsyncRunEvents:
        """Async `resume_stream`: awaiting it claims the approval (errors raise here)."""
        run, resumed = await resume(
            self._setup(), self.config, key, decisions, identity, overrides=config
        )
        output = self._ask_for_output_again(run, resumed, output_type, output_retries)
        events = astructured_events(drive_async(run, stream_model=True, resumed=resumed), output)
        return AsyncRunEvents(run, events)

    def _ask_for_output_again(
        self, run: Run, resumed: Resumption, output_type: Any, retries: int
    ) -> Any:
        """What the resumed run's answer must fit: the caller's `output_type`, else the
        JSON Schema the paused run stored (`output_schema` over HTTP); None for text."""
        wanted = output_type if output_type is not None else resumed.output_schema
        if wanted is None:
            if resumed.output_type_name is not None:
                import logging  # only here: `import selectools` does not load logging

                logging.getLogger("selectools.approval").warning(
                    "Run %s asked for output_type %s before it paused; pass it again "
                    "(resume(..., output_type=%s)) to get it: this resumed run answers "
                    "with text.",
                    run.run_id,
                    resumed.output_type_name,
                    resumed.output_type_name,
                )
            return None
        provider = StructuredOutput.for_provider(self.provider, run.setup.provider, wanted, retries)
        run.setup = dataclasses.replace(run.setup, provider=provider)
        return wanted

    def _setup(self, provider: Provider | None = None) -> RunSetup:
        return RunSetup(  # positional: once a run, and keyword calls cost more
            provider if provider is not None else self._provider_with_policies(),
            self.tools.snapshot(),
            self.system_prompt,
            self.memory,
            self.observers,
            self._tool_policies,
            self.totals,
        )

    def _config(self, config: AgentConfig | Mapping[str, Any] | None) -> AgentConfig:
        if config is None:
            return self.config
        return self.config.merged(dict(config) if isinstance(config, Mapping) else config)

    def _run(
        self,
        input: RunInput,
        session_id: str | None,
        identity: str | None,
        metadata: Mapping[str, Any] | None,
        config: AgentConfig | Mapping[str, Any] | None,
        output_type: Any = None,
        output_retries: int = 2,
    ) -> Run:
        provider = self._provider_with_policies()
        if output_type is not None:  # asks for the type and repairs answers (structured.py)
            provider = StructuredOutput.for_provider(
                self.provider, provider, output_type, output_retries
            )
        return Run(
            self._setup(provider),
            input,
            session_id=session_id,
            identity=identity,
            metadata=metadata,
            config=self._config(config),
        )

    def _provider_with_policies(self) -> Provider:
        """`provider` wrapped in the policies' provider faces, rebuilt if it was replaced."""
        wrapped = self._wrapped
        if wrapped is None or wrapped[0] is not self.provider:
            wrapped = (self.provider, compose_provider(self.provider, self.policies))
            self._wrapped = wrapped
        return wrapped[1]


def _final(events: Iterator[Event]) -> AgentResult:
    result: AgentResult | None = None
    for event in events:
        if isinstance(event, RunFinished):
            result = event.result
    assert result is not None, "a completed run always ends with RunFinished"
    return result


def _flatten(
    items: Iterable[Tool | Toolkit | Callable[..., Any]],
) -> Iterator[Tool | Callable[..., Any]]:
    for item in items:
        if isinstance(item, Toolkit) and not isinstance(item, Tool):
            yield from item.tools()
        else:
            yield item
