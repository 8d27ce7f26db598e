"""One run, top to bottom: its state, and the loop that drives it, for sync and async callers.

A run asks the model, runs the tool calls it answers with (through the
policies), gives the results back, and repeats until the model answers with
text only. Everything a run changes lives in its `Run`, never on the agent:
one agent serves any number of concurrent runs without them seeing each
other's messages. The agent hands a run a `RunSetup` (provider, tools as they
are at the start, memory, observers, policies) and nothing here imports the
agent.

The two drivers walk the same steps and differ only in how they wait. The sync
driver never starts an event loop for plain sync tools, so `agent.run()` works
in Jupyter, in sync web views and inside other loops; with a run timeout, it
makes model calls on the bridge loop so the deadline holds mid-call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import queue
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import frozen
from .approval.flow import Resumption, hold, pause, pause_sync
from .bridge import run_coroutine_sync, submit_in_thread, sync_iterate
from .config import AgentConfig
from .context import RunContext
from .errors import (
    InvalidInputError,
    MaxIterationsError,
    ProviderError,
    RunTimeoutError,
    SessionNotFoundError,
)
from .events import (
    Event,
    ModelCallFinished,
    ModelCallStarted,
    RunFailed,
    RunFinished,
    RunStarted,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    event_hook,
)
from .memory import ConversationMemory, Selection, Summarized
from .messages import NO_INPUT, Message, RunInput, ToolCall, coerce_messages
from .observers import ObserverHub
from .providers.base import (
    ModelRequest,
    ModelResponse,
    Provider,
    TextChunk,
    aclose_stream,
    close_stream,
)
from .results import AgentResult, ToolCallRecord
from .sequences import SHARE_FROM, joined
from .sessions.base import StoredSession
from .tools.calling import (
    CallProgress,
    ToolInvocation,
    call_tools_async,
    call_tools_sync,
    prepare,
    shortest_timeout,
)
from .tools.tool import ToolSnapshot
from .unicode import well_formed
from .usage import NO_USAGE, Usage, UsageTotals

if TYPE_CHECKING:
    import asyncio

    from .policies import ToolPolicy

__all__ = ["AsyncRunEvents", "Run", "RunEvents", "RunSetup", "drive", "drive_async"]


@frozen.record
class RunSetup:
    """What a run takes from its agent, fixed when the run starts."""

    provider: Provider
    tools: ToolSnapshot
    system_prompt: str | None
    memory: ConversationMemory
    observers: ObserverHub
    tool_policies: tuple[ToolPolicy, ...]
    totals: UsageTotals


_NOTHING_SELECTED = Selection(())


class Run:
    """The state of one run: the messages the model sees, tool records, usage, the deadline."""

    def __init__(
        self,
        setup: RunSetup,
        input: RunInput,
        *,
        session_id: str | None,
        identity: str | None,
        metadata: Mapping[str, Any] | None,
        config: AgentConfig,
    ) -> None:
        self.setup = setup
        self.config = config
        self.run_id = os.urandom(16).hex()
        self.session_id = session_id
        self.identity = identity
        self.context = RunContext(self.run_id, session_id, identity, dict(metadata or ()))
        self.input_messages = coerce_messages(input)
        if not self.input_messages:
            raise InvalidInputError(NO_INPUT)
        self.deadline = (
            time.monotonic() + config.run_timeout if config.run_timeout is not None else None
        )
        self.window: Sequence[Message] = ()  # what the run started from (see `messages`)
        self.selection = _NOTHING_SELECTED
        self.summary_record: Message | None = None
        self.new_messages: list[Message] = []
        self.records: list[ToolCallRecord] = []
        self.usage = NO_USAGE
        self.iterations = 0
        self.model = ""
        self.provider = ""

    @property
    def messages(self) -> Sequence[Message]:
        """What the model sees next: the window, then everything this run added.

        A long window is shared, not copied (`selectools.sequences.joined`).
        """
        new = self.new_messages
        if not new:
            return self.window
        if len(self.window) < SHARE_FROM:
            return (*self.window, *new)
        return joined(self.window, new)

    # -- the steps, in the order a run takes them ------------------------------------

    def begin(self, stored: StoredSession | None) -> None:
        """Assemble what the model sees: system prompt, windowed history, the input."""
        if stored is not None and not stored.allows(self.identity):
            # Same answer as a missing session: never reveal that someone else's exists.
            raise SessionNotFoundError(f"No session '{self.session_id}' for this caller.")
        prompt = self.setup.system_prompt
        history = stored.messages if stored is not None else ()
        # The window budgets the whole request, system prompt included.
        self.selection = self.setup.memory.select(
            (Message.system(prompt),) if prompt else (),
            history,
            self.input_messages,
            system_at=stored.system_at if stored is not None else (),
        )
        self.window = self.selection.messages

    def summarize_sync(self) -> None:
        """Fold what the window dropped into the session's summary (memory with summarize);
        the summarizer's calls count against the run timeout."""
        if self.selection.pending:
            memory = self.setup.memory
            if self.deadline is None:
                summarized = memory.summarize(self.selection, self.setup.provider, self.context)
            else:
                work = memory.asummarize(self.selection, self.setup.provider, self.context)
                try:
                    summarized = run_coroutine_sync(work, timeout=self.remaining())
                except TimeoutError:
                    raise self.timeout_error() from None
            self._summarized(summarized)

    async def summarize(self) -> None:
        if self.selection.pending:
            import asyncio

            memory = self.setup.memory
            async with asyncio.timeout(self.remaining()):
                summarized = await memory.asummarize(
                    self.selection, self.setup.provider, self.context
                )
            self._summarized(summarized)

    def _summarized(self, summarized: Summarized) -> None:
        self.window = summarized.messages
        self.usage = self.usage + summarized.usage
        self.summary_record = summarized.record

    def open_session_sync(self) -> StoredSession | None:
        """The stored session; a caller with an identity claims a new id atomically, so
        of two callers starting the same id at once, exactly one owns it."""
        if not self.session_id:
            return None
        store = self.setup.memory.store
        if self.identity is None:
            return store.load(self.session_id)
        return store.claim(self.session_id, self.identity)

    async def open_session(self) -> StoredSession | None:
        if not self.session_id:
            return None
        store = self.setup.memory.store
        if self.identity is None:
            return await store.aload(self.session_id)
        return await store.aclaim(self.session_id, self.identity)

    def next_request(self) -> ModelRequest:
        if self.iterations >= self.config.max_iterations:
            raise MaxIterationsError(
                f"The model was still calling tools after {self.iterations} model calls "
                f"(max_iterations={self.config.max_iterations}). Raise "
                f"AgentConfig.max_iterations, or check the tool errors it keeps retrying.",
                partial=self.result(),
            )
        self.iterations += 1
        config = self.config
        return ModelRequest(
            messages=self.messages,
            tools=self.setup.tools.schemas,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            parallel_tool_calls=config.parallel_tool_calls,
            timeout=None if self.deadline is None else self.remaining(),
            context=self.context,
        )

    def accept(self, response: ModelResponse) -> list[ToolInvocation | ToolCallRecord]:
        """Record the model's answer; return the tool calls to run (empty: the run is done)."""
        self.usage = response.usage if self.usage is NO_USAGE else self.usage + response.usage
        self.model = response.model or self.model
        self.provider = response.provider or self.provider
        message = _well_formed(response.message)
        self.new_messages.append(message)
        tools = self.setup.tools.tools
        return [prepare(tools, call, self.context) for call in message.tool_calls]

    def add_results(self, records: list[ToolCallRecord]) -> None:
        for record in records:
            message = Message.tool(record.output, tool_call_id=record.id, name=record.name)
            self.new_messages.append(message)
        self.records.extend(records)

    def to_store(self) -> list[Message]:
        """What the session keeps of this run: its input and everything the run added
        (after a new summary of what the window dropped, if one was written)."""
        summary = [self.summary_record] if self.summary_record is not None else []
        return [*summary, *self.input_messages, *self.new_messages]

    def finish(self) -> RunFinished:
        result = self.result()
        self.setup.totals.add(result.usage)
        return RunFinished(self.run_id, result)

    def result(self) -> AgentResult:
        final = self.new_messages[-1] if self.new_messages else None
        text = final.content or "" if final is not None and final.role == "assistant" else ""
        return AgentResult(  # positional: once a run, but keyword calls cost more
            text,
            self.messages,
            tuple(self.new_messages),
            tuple(self.records),
            self.usage,
            self.run_id,
            self.session_id,
            self.model,
            self.iterations,
            self.provider,
        )

    # -- limits --------------------------------------------------------------------

    def remaining(self) -> float | None:
        """Seconds left before the run timeout (None: no timeout); raises once it passed."""
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.timeout_error()
        return left

    def tool_timeout(self) -> float | None:
        return shortest_timeout(self.config.tool_timeout, self.remaining())

    def timeout_error(self) -> RunTimeoutError:
        return RunTimeoutError(
            f"The run took longer than run_timeout={self.config.run_timeout:g} s and was "
            f"stopped. Raise AgentConfig.run_timeout or give tools tighter timeouts.",
            partial=self.result(),
        )


# -- a run's events, with what it used so far --------------------------------------------


class _RunView:
    """What a caller holding a run's events may read of the run itself."""

    __slots__ = ("_run",)

    def __init__(self, run: Run) -> None:
        self._run = run

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def usage(self) -> Usage:
        """What the run's model calls used so far (the sum of their usages)."""
        return self._run.usage


class RunEvents(_RunView, Iterator[Event]):
    """The events of one run (`Agent.stream`), and what the run has used so far.

    `usage` is readable at any point, also after the run was stopped early (the
    stream closed): a quota charges a run cut short for the model calls it made.
    """

    __slots__ = ("_events",)

    def __init__(self, run: Run, events: Iterator[Event]) -> None:
        super().__init__(run)
        self._events = events

    def __next__(self) -> Event:
        return next(self._events)

    def close(self) -> None:
        """Stop the run (and its tools), as closing its generator does."""
        close_stream(self._events)


class AsyncRunEvents(_RunView, AsyncIterator[Event]):
    """Async `RunEvents` (`Agent.astream`): close it (`aclose()`) to stop the run."""

    __slots__ = ("_events",)

    def __init__(self, run: Run, events: AsyncIterator[Event]) -> None:
        super().__init__(run)
        self._events = events

    async def __anext__(self) -> Event:
        return await anext(self._events)

    async def aclose(self) -> None:
        await aclose_stream(self._events)


# -- the sync driver ------------------------------------------------------------------


def drive(
    run: Run, *, stream_model: bool, resumed: Resumption | None = None, quiet: bool = False
) -> Iterator[Event]:
    """Run to the end, yielding events; the last is RunFinished (failures raise).

    `resumed` goes on with a run that paused for approval: its decided calls first.
    `quiet`: the caller reads only the end (RunFinished, or the pause for approval),
    so with no observers either, the run builds no other event.
    """
    setup = run.setup
    hub = setup.observers
    store = setup.memory.store
    observed = bool(hub)
    announce = observed or not quiet
    ended = False
    try:
        if resumed is None:
            run.begin(run.open_session_sync())
            run.summarize_sync()
            starting: Any = (RunStarted(run.run_id, run.session_id),) if announce else ()
        else:
            starting = resumed.events
        for event in starting:
            hub.emit(event_hook(event), event)
            yield event
        batch = resumed.batch if resumed else []
        while True:
            waiting: list[ToolInvocation] = []
            if not batch:
                request = run.next_request()
                started = time.perf_counter()
                if observed:
                    hub.emit("on_llm_start", ModelCallStarted(run.run_id, request))
                if stream_model or run.deadline is not None:
                    response = yield from _model_call_sync(run, request, stream_model)
                else:  # the common case, without a generator in between
                    response = setup.provider.complete(request)
                if observed:
                    hub.emit("on_llm_end", _finished_call(run, response, started))
                batch = run.accept(response)
                if not batch:
                    break
                batch, waiting = hold(batch, setup.tool_policies)
            if announce:
                for event in _started_events(run, batch):
                    hub.emit("on_tool_start", event)
                    yield event
            if stream_model and _streams(batch):
                records = yield from _stream_tools_sync(run, batch)
            else:
                records = _call_tools(run, batch, None) if batch else []
            run.add_results(records)
            if announce:
                for event in _finished_events(run, records):
                    hub.emit(_tool_hook(event), event)
                    yield event
            if waiting:  # the run stops here until a person decides
                for event in pause_sync(run, waiting):
                    hub.emit(event_hook(event), event)
                    yield event
                return
            batch = []
            run.remaining()
        if run.session_id:
            store.append(run.session_id, run.to_store(), owner=run.identity)
        event = run.finish()
        hub.emit("on_run_end", event)
        ended = True
        yield event
    except Exception as exc:
        hub.emit("on_run_end", RunFailed.from_exception(run.run_id, exc))
        raise
    except BaseException:  # its consumer closed it mid-run: observers close their books too
        if not ended:
            hub.emit("on_run_end", _stopped(run))
        raise


def _model_call_sync(
    run: Run, request: ModelRequest, stream_model: bool
) -> Generator[TextDelta, None, ModelResponse]:
    """One model call from sync code; returns the response (a generator's return value)."""
    provider = run.setup.provider
    if run.deadline is None:
        if not stream_model:
            return provider.complete(request)
        chunks: Iterator[TextChunk | ModelResponse] = iter(provider.stream(request))
    else:
        # The deadline must hold while the model is silent: wait on the bridge loop.
        if not stream_model:
            try:
                return run_coroutine_sync(provider.acomplete(request), timeout=run.remaining())
            except TimeoutError:
                raise run.timeout_error() from None
        chunks = sync_iterate(provider.astream(request), deadline=run.deadline)
    response = None
    try:
        for item in chunks:
            if isinstance(item, TextChunk):
                yield TextDelta(run.run_id, well_formed(item.text))
            else:
                response = item
    except TimeoutError:
        raise run.timeout_error() from None
    finally:
        close_stream(chunks)  # closes the upstream stream if our consumer went away
    return _require_response(response, provider)


# -- the async driver -----------------------------------------------------------------


async def drive_async(
    run: Run, *, stream_model: bool, resumed: Resumption | None = None, quiet: bool = False
) -> AsyncIterator[Event]:
    """Async `drive`. Close it (or cancel its task) to stop the run and its tools."""
    import asyncio  # here, not at the top: sync-only programs never load asyncio

    setup = run.setup
    hub = setup.observers
    provider = setup.provider
    store = setup.memory.store
    observed = bool(hub)
    announce = observed or not quiet
    ended = False
    try:
        if resumed is None:
            run.begin(await run.open_session())
            await run.summarize()
            starting: Any = (RunStarted(run.run_id, run.session_id),) if announce else ()
        else:
            starting = resumed.events
        for event in starting:
            if hub:
                await hub.aemit(event_hook(event), event)
            yield event
        batch = resumed.batch if resumed else []
        while True:
            waiting: list[ToolInvocation] = []
            if not batch:
                request = run.next_request()
                started = time.perf_counter()
                if observed:
                    await hub.aemit("on_llm_start", ModelCallStarted(run.run_id, request))
                if stream_model:
                    response = None
                    chunks = aiter(provider.astream(request))
                    try:
                        while True:
                            try:
                                async with asyncio.timeout(run.remaining()):
                                    item = await anext(chunks)
                            except StopAsyncIteration:
                                break
                            if isinstance(item, TextChunk):
                                yield TextDelta(run.run_id, well_formed(item.text))
                            else:
                                response = item
                    finally:
                        await aclose_stream(chunks)
                    response = _require_response(response, provider)
                elif run.deadline is None:
                    response = await provider.acomplete(request)
                else:
                    async with asyncio.timeout(run.remaining()):
                        response = await provider.acomplete(request)
                if observed:
                    await hub.aemit("on_llm_end", _finished_call(run, response, started))
                batch = run.accept(response)
                if not batch:
                    break
                batch, waiting = hold(batch, setup.tool_policies)
            if announce:
                for event in _started_events(run, batch):
                    if observed:
                        await hub.aemit("on_tool_start", event)
                    yield event
            records: list[ToolCallRecord] = []
            if batch and stream_model and _streams(batch):
                async with contextlib.aclosing(_call_tools_streaming(run, batch)) as steps:
                    async for step in steps:
                        if isinstance(step, ToolProgress):
                            yield step
                        else:
                            records = step
            elif batch:
                records = await call_tools_async(
                    batch,
                    tool_timeout=run.tool_timeout(),
                    parallel=run.config.parallel_tool_calls,
                    policies=setup.tool_policies,
                )
            run.add_results(records)
            if announce:
                for event in _finished_events(run, records):
                    if observed:
                        await hub.aemit(_tool_hook(event), event)
                    yield event
            if waiting:  # the run stops here until a person decides
                for event in await pause(run, waiting):
                    await hub.aemit(event_hook(event), event)
                    yield event
                return
            batch = []
            run.remaining()
        if run.session_id:
            await store.aappend(run.session_id, run.to_store(), owner=run.identity)
        event = run.finish()
        if hub:
            await hub.aemit("on_run_end", event)
        ended = True
        yield event
    except TimeoutError as exc:
        error = exc if isinstance(exc, RunTimeoutError) else run.timeout_error()
        await hub.aemit("on_run_end", RunFailed.from_exception(run.run_id, error))
        if error is exc:
            raise
        raise error from None
    except Exception as exc:
        await hub.aemit("on_run_end", RunFailed.from_exception(run.run_id, exc))
        raise
    except BaseException:  # cancelled, or its stream closed mid-run
        if not ended and hub:
            await hub.aemit("on_run_end", _stopped(run))
        raise


# -- tool calls whose progress is streamed ---------------------------------------------


def _streams(batch: Sequence[ToolInvocation | ToolCallRecord]) -> bool:
    return any(isinstance(item, ToolInvocation) and item.tool.streams for item in batch)


def _call_tools(
    run: Run, batch: list[ToolInvocation | ToolCallRecord], on_progress: CallProgress | None
) -> list[ToolCallRecord]:
    return call_tools_sync(
        batch,
        tool_timeout=run.tool_timeout(),
        parallel=run.config.parallel_tool_calls,
        policies=run.setup.tool_policies,
        on_progress=on_progress,
    )


def _stream_tools_sync(
    run: Run, batch: list[ToolInvocation | ToolCallRecord]
) -> Generator[ToolProgress, None, list[ToolCallRecord]]:
    """Run a batch with generator tools in a worker thread, yielding their chunks as they come.

    Closing the stream stops the generators at their next yield (nobody is
    listening any more).
    """
    updates: queue.SimpleQueue[tuple[ToolCall, Any] | None] = queue.SimpleQueue()
    abandoned = threading.Event()

    def forward(tool_call: ToolCall, chunk: Any) -> None:
        if abandoned.is_set():
            raise RuntimeError("The run's stream was closed while this tool was streaming.")
        updates.put((tool_call, chunk))

    work = submit_in_thread(_call_tools, run, batch, forward)
    work.add_done_callback(lambda _: updates.put(None))
    try:
        while (update := updates.get()) is not None:
            yield ToolProgress(run.run_id, update[0].id, update[0].name, update[1])
    finally:
        abandoned.set()
    return work.result()


async def _call_tools_streaming(
    run: Run, batch: list[ToolInvocation | ToolCallRecord]
) -> AsyncGenerator[ToolProgress | list[ToolCallRecord], None]:
    """Run a batch as a task, yielding chunks as they come and then the records."""
    import asyncio

    loop = asyncio.get_running_loop()
    updates: asyncio.Queue[tuple[ToolCall, Any] | None] = asyncio.Queue()

    def forward(tool_call: ToolCall, chunk: Any) -> None:  # from the loop or a tool thread
        loop.call_soon_threadsafe(updates.put_nowait, (tool_call, chunk))

    work = asyncio.ensure_future(
        call_tools_async(
            batch,
            tool_timeout=run.tool_timeout(),
            parallel=run.config.parallel_tool_calls,
            policies=run.setup.tool_policies,
            on_progress=forward,
        )
    )
    work.add_done_callback(lambda _: loop.call_soon(updates.put_nowait, None))
    try:
        while (update := await updates.get()) is not None:
            yield ToolProgress(run.run_id, update[0].id, update[0].name, update[1])
        yield work.result()
    finally:
        if not work.done():  # the consumer left: stop the tools
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work


# -- shared pieces --------------------------------------------------------------------


def _well_formed(message: Message) -> Message:
    """The model's message, its text and arguments without lone surrogates (what every
    store, log and HTTP answer after it could not encode); the same object when clean."""
    content = message.content
    if content is None or content.isascii():
        for call in message.tool_calls:
            if not call.arguments.isascii():
                break
        else:  # the common case: all ASCII, nothing to rebuild
            return message
    calls = tuple(
        dataclasses.replace(call, arguments=well_formed(call.arguments))
        for call in message.tool_calls
    )
    text = None if content is None else well_formed(content)
    return dataclasses.replace(message, content=text, tool_calls=calls)


def _stopped(run: Run) -> RunFailed:
    """What observers hear of a run stopped from outside (cancelled, its stream closed)."""
    return RunFailed(run.run_id, "cancelled", "The run was stopped before it finished.", status=499)


def _require_response(response: ModelResponse | None, provider: Provider) -> ModelResponse:
    if response is None:
        raise ProviderError(
            f"Provider {provider!r} ended its stream without a final response.",
            provider=getattr(provider, "name", ""),
        )
    return response


def _finished_call(run: Run, response: ModelResponse, started: float) -> ModelCallFinished:
    return ModelCallFinished(run.run_id, response, (time.perf_counter() - started) * 1000)


def _started_events(
    run: Run, batch: list[ToolInvocation | ToolCallRecord]
) -> list[ToolCallStarted]:
    """One event per call; calls refused before running (a ToolCallRecord) are announced too."""
    events = []
    for item in batch:
        if isinstance(item, ToolInvocation):
            events.append(
                ToolCallStarted(
                    run.run_id, item.call.id, item.call.name, item.arguments, item.call.arguments
                )
            )
        else:
            events.append(ToolCallStarted(run.run_id, item.id, item.name, None, item.raw_arguments))
    return events


def _finished_events(run: Run, records: list[ToolCallRecord]) -> list[ToolCallFinished]:
    return [ToolCallFinished(run.run_id, record) for record in records]


def _tool_hook(event: ToolCallFinished) -> str:
    return "on_tool_end" if event.record.ok else "on_tool_error"
