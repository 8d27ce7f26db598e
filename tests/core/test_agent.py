"""The agent loop: sync, async, streamed, parallel, limits, cancellation, isolation."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest

from selectools import (
    Agent,
    AgentConfig,
    MaxIterationsError,
    ModelRequest,
    Observer,
    Reply,
    RunContext,
    RunFinished,
    RunStarted,
    RunTimeoutError,
    ScriptedProvider,
    SessionNotFoundError,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    call,
    tool,
)
from selectools.testing import assert_tool_called


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
async def aadd(a: int, b: int) -> int:
    """Add two integers, asynchronously."""
    await asyncio.sleep(0)
    return a + b


def adding_agent(*steps: Any, **kwargs: Any) -> Agent:
    return Agent([add, aadd], ScriptedProvider(steps), **kwargs)


def test_run_returns_text_tool_calls_messages_and_usage() -> None:
    agent = adding_agent(call("add", a=2, b="3"), "The sum is 5.", system_prompt="Be exact.")
    result = agent.run("What is 2+3?")
    assert result.text == "The sum is 5."
    record = assert_tool_called(result, "add", a=2, b=3)  # the plugin's helper
    assert len(result.tool_calls) == 1
    assert (record.arguments, record.result, record.error) == ({"a": 2, "b": 3}, 5, None)
    assert record.duration_ms >= 0
    assert [m.role for m in result.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert result.messages[3].content == "5"
    assert result.usage.requests == 2
    assert result.usage.input_tokens > 0
    assert result.iterations == 2
    assert agent.usage.requests == 2


async def test_arun_runs_sync_and_async_tools() -> None:
    agent = adding_agent([call("add", a=1, b=1), call("aadd", a=2, b=2)], "done")
    result = await agent.arun("go")
    assert assert_tool_called(result, "add", a=1, b=1).result == 2
    assert assert_tool_called(result, "aadd", a=2, b=2).result == 4


def test_agent_without_tools_is_plain_chat() -> None:
    provider = ScriptedProvider(["Hello!"])
    result = Agent(provider=provider).run("Hi")
    assert result.text == "Hello!"
    assert provider.requests[0].tools == ()


def test_tool_errors_go_back_to_the_model_and_the_run_goes_on() -> None:
    @tool
    def explode(reason: str) -> str:
        """Always fails."""
        raise ValueError(f"boom: {reason}")

    provider = ScriptedProvider(
        [
            [call("explode", reason="x"), call("missing"), call("add", "{not json")],
            call("add", a=1),
            "recovered",
        ]
    )
    result = Agent([explode, add], provider).run("go")
    assert result.text == "recovered"
    errors = [r.error for r in result.tool_calls]
    assert "ValueError: boom: x" in (errors[0] or "")
    assert "Unknown tool 'missing'" in (errors[1] or "")
    assert "not valid JSON" in (errors[2] or "")
    assert "'b' is required" in (errors[3] or "")
    # what the model saw on its next turn: every error, by call id
    second = provider.requests[1].messages
    tool_messages = [m for m in second if m.role == "tool"]
    assert len(tool_messages) == 3
    assert tool_messages[0].content is not None
    assert tool_messages[0].content.startswith("Error: Tool 'explode' failed with ValueError")


def test_raise_for_tool_errors_is_opt_in_strictness() -> None:
    from selectools import ToolExecutionError

    provider = ScriptedProvider([[call("add", a=1, b=2), call("add", a="x", b=1)], "done"])
    result = Agent([add], provider).run("go")
    assert [r.name for r in result.failed_tool_calls] == ["add"]
    with pytest.raises(ToolExecutionError, match="Invalid arguments for tool 'add'") as info:
        result.raise_for_tool_errors()
    assert info.value.tool_name == "add"
    clean = Agent([add], ScriptedProvider([call("add", a=1, b=2), "ok"])).run("go")
    clean.raise_for_tool_errors()  # no failures: nothing raised
    assert clean.failed_tool_calls == ()


def test_stream_yields_typed_events_in_order() -> None:
    agent = adding_agent(call("add", a=1, b=2), "It is 3.")
    events = list(agent.stream("1+2?"))
    assert isinstance(events[0], RunStarted)
    assert isinstance(events[-1], RunFinished)
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    finished = [e for e in events if isinstance(e, ToolCallFinished)]
    assert started[0].arguments == {"a": 1, "b": 2}
    assert finished[0].record.result == 3
    assert events.index(started[0]) < events.index(finished[0])
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1  # really streamed in pieces


def test_client_that_renders_deltas_must_not_append_final_text() -> None:
    """The documented contract: deltas carry the text; RunFinished repeats it whole."""
    agent = adding_agent("Hello there, world.")
    rendered = ""
    final = None
    for event in agent.stream("hi"):
        if isinstance(event, TextDelta):
            rendered += event.text
        elif isinstance(event, RunFinished):
            final = event.result.text  # for checking, not for appending
    assert rendered == final == "Hello there, world."


async def test_astream_matches_stream() -> None:
    agent = adding_agent(call("aadd", a=4, b=5), "9")
    kinds = [type(e).__name__ async for e in agent.astream("4+5")]
    assert kinds == [
        "RunStarted",
        "ToolCallStarted",
        "ToolCallFinished",
        "TextDelta",
        "RunFinished",
    ]


async def test_parallel_async_tools_really_overlap_and_keep_model_order() -> None:
    barrier = asyncio.Barrier(3)
    finished_order: list[int] = []

    @tool
    async def wait(n: int) -> int:
        """Wait for the others."""
        await asyncio.wait_for(barrier.wait(), timeout=5)  # deadlocks unless concurrent
        if n == 0:
            await asyncio.sleep(0.01)  # the first call finishes last
        finished_order.append(n)
        return n

    provider = ScriptedProvider([[call("wait", n=0), call("wait", n=1), call("wait", n=2)], "ok"])
    result = await Agent([wait], provider).arun("go")
    assert [r.result for r in result.tool_calls] == [0, 1, 2]
    assert finished_order[-1] == 0
    assert [m.tool_call_id for m in result.messages if m.role == "tool"] == [
        r.id for r in result.tool_calls
    ]


def test_parallel_sync_tools_run_in_threads_from_sync_run() -> None:
    barrier = threading.Barrier(4, timeout=5)

    @tool
    def meet(n: int) -> str:
        """Wait for the others."""
        barrier.wait()  # raises BrokenBarrierError unless all four run at once
        return threading.current_thread().name

    calls = [call("meet", n=i) for i in range(4)]
    result = Agent([meet], ScriptedProvider([calls, "ok"])).run("go")
    assert all(r.error is None for r in result.tool_calls)
    assert len({r.result for r in result.tool_calls}) == 4


def test_parallel_can_be_turned_off() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    @tool
    def work(n: int) -> int:
        """Work."""
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        with lock:
            active -= 1
        return n

    provider = ScriptedProvider([[call("work", n=i) for i in range(5)], "ok"])
    config = AgentConfig(parallel_tool_calls=False)
    result = Agent([work], provider, config=config).run("go")
    assert peak == 1
    assert [r.result for r in result.tool_calls] == [0, 1, 2, 3, 4]
    assert provider.requests[0].parallel_tool_calls is False


def test_max_iterations_stops_a_looping_model() -> None:
    agent = Agent([add], ScriptedProvider([call("add", a=1, b=1)], cycle=True))
    with pytest.raises(MaxIterationsError, match="max_iterations=3") as info:
        agent.run("loop", config={"max_iterations": 3})
    partial = info.value.partial
    assert partial is not None
    assert len(partial.tool_calls) == 3  # type: ignore[attr-defined]


async def test_run_timeout_stops_a_stuck_tool() -> None:
    never = asyncio.Event()

    @tool
    async def stuck() -> str:
        """Never returns."""
        await never.wait()
        return "unreachable"

    agent = Agent([stuck], ScriptedProvider([call("stuck"), "after"]))
    with pytest.raises(RunTimeoutError, match=r"run_timeout=0\.2"):
        await agent.arun("go", config=AgentConfig(run_timeout=0.2))


def test_tool_timeout_is_reported_to_the_model() -> None:
    release = threading.Event()

    @tool(timeout=0.1)
    def slow() -> str:
        """Blocks until released."""
        release.wait(5)
        return "late"

    provider = ScriptedProvider([call("slow"), "gave up"])
    try:
        result = Agent([slow], provider).run("go")
    finally:
        release.set()
    assert result.text == "gave up"
    assert result.tool_calls[0].error_type == "timeout"
    assert "did not finish within 0.1 s" in (result.tool_calls[0].error or "")


async def test_cancelling_a_run_cancels_pending_tool_calls() -> None:
    entered = asyncio.Event()
    cancelled: list[str] = []

    @tool
    async def pending(name: str) -> str:
        """Waits forever."""
        try:
            entered.set()
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(name)
            raise
        return name

    provider = ScriptedProvider([[call("pending", name="a"), call("pending", name="b")], "x"])
    task = asyncio.create_task(Agent([pending], provider).arun("go"))
    await entered.wait()
    await asyncio.sleep(0)  # let the second call start too
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(cancelled) == ["a", "b"]


async def test_concurrent_runs_on_one_agent_never_share_messages() -> None:
    def echo(request: ModelRequest) -> str:
        users = [m.content for m in request.messages if m.role == "user"]
        return f"seen: {users}"

    agent = Agent(provider=ScriptedProvider(responder=echo))
    results = await asyncio.gather(*(agent.arun(f"request {i}") for i in range(25)))
    for i, result in enumerate(results):
        assert result.text == f"seen: ['request {i}']"


async def test_sync_run_works_inside_a_running_event_loop() -> None:
    """As in Jupyter or an async server: no asyncio.run() crash, async tools still run."""
    agent = adding_agent([call("aadd", a=1, b=2), call("add", a=3, b=4)], "done")
    result = agent.run("go")
    assert [r.result for r in result.tool_calls] == [3, 7]


request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_contextvars_reach_tools_in_threads_and_tasks(mode: str) -> None:
    @tool
    def sync_probe() -> str:
        """Read the request id."""
        return request_id.get()

    @tool
    async def async_probe() -> str:
        """Read the request id."""
        return request_id.get()

    steps = [[call("sync_probe"), call("async_probe")], "ok"]
    agent = Agent([sync_probe, async_probe], ScriptedProvider(steps))
    request_id.set("req-42")
    if mode == "sync":
        result = await asyncio.to_thread(contextvars.copy_context().run, agent.run, "go")
    else:
        result = await agent.arun("go")
    assert [r.result for r in result.tool_calls] == ["req-42", "req-42"]


def test_tools_receive_run_context(scripted_provider: Callable[..., ScriptedProvider]) -> None:
    @tool
    def whoami(ctx: RunContext) -> str:
        """Who is asking."""
        return f"{ctx.identity}/{ctx.session_id}/{ctx.metadata['tenant']}"

    agent = Agent([whoami], scripted_provider(call("whoami"), "ok"))
    result = agent.run("me?", identity="ada", session_id="s1", metadata={"tenant": "acme"})
    record = assert_tool_called(result, "whoami")
    assert record.result == "ada/s1/acme"
    assert record.arguments == {}


class Recorder(Observer):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_run_start(self, event: Any) -> None:
        self.seen.append("run_start")

    async def on_llm_start(self, event: Any) -> None:
        self.seen.append("llm_start")

    def on_llm_end(self, event: Any) -> None:
        self.seen.append("llm_end")

    async def on_tool_start(self, event: Any) -> None:
        self.seen.append(f"tool_start:{event.name}")

    def on_tool_end(self, event: Any) -> None:
        self.seen.append(f"tool_end:{event.record.name}")

    def on_tool_error(self, event: Any) -> None:
        self.seen.append(f"tool_error:{event.record.name}")

    def on_run_end(self, event: Any) -> None:
        self.seen.append(f"run_end:{event.type}")


class Broken(Observer):
    def on_run_start(self, event: Any) -> None:
        raise RuntimeError("observer bug")

    async def on_tool_start(self, event: Any) -> None:
        raise RuntimeError("async observer bug")


EXPECTED_HOOKS = [
    "run_start",
    "llm_start",
    "llm_end",
    "tool_start:add",
    "tool_start:nope",
    "tool_end:add",
    "tool_error:nope",
    "llm_start",
    "llm_end",
    "run_end:run_finished",
]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_observers_see_every_hook_and_cannot_break_the_run(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    steps = [[call("add", a=1, b=1), call("nope")], "ok"]
    agent = Agent([add], ScriptedProvider(steps), observers=[Broken(), recorder])
    with caplog.at_level(logging.ERROR, logger="selectools.observers"):
        result = agent.run("go") if mode == "sync" else await agent.arun("go")
    assert result.text == "ok"
    assert recorder.seen == EXPECTED_HOOKS
    assert "observer bug" in caplog.text
    assert "async observer bug" in caplog.text


def test_observer_sees_failed_run() -> None:
    recorder = Recorder()
    agent = Agent(provider=ScriptedProvider([call("x")], cycle=True), observers=[recorder])
    with pytest.raises(MaxIterationsError):
        agent.run("go", config={"max_iterations": 1})
    assert recorder.seen[-1] == "run_end:error"


def test_sessions_continue_a_conversation_and_respect_owners() -> None:
    provider = ScriptedProvider([Reply(text="Nice to meet you, Ada.")], cycle=True)
    agent = Agent(provider=provider, system_prompt="Be brief.")
    agent.run("I am Ada.", session_id="s1", identity="ada")
    agent.run("Who am I?", session_id="s1", identity="ada")
    sent = [(m.role, m.content) for m in provider.requests[1].messages]
    assert sent == [
        ("system", "Be brief."),
        ("user", "I am Ada."),
        ("assistant", "Nice to meet you, Ada."),
        ("user", "Who am I?"),
    ]
    with pytest.raises(SessionNotFoundError):
        agent.run("Who is Ada?", session_id="s1", identity="mallory")
    stored = agent.memory.store.load("s1")
    assert stored is not None
    assert len(stored.messages) == 4  # the system prompt is not stored; nothing from mallory


def test_runs_without_session_start_fresh() -> None:
    provider = ScriptedProvider(["a", "b"])
    agent = Agent(provider=provider)
    agent.run("first")
    agent.run("second")
    assert [m.content for m in provider.requests[1].messages] == ["second"]


def test_empty_input_is_refused() -> None:
    with pytest.raises(ValueError, match="needs input"):
        Agent(provider=ScriptedProvider(["x"])).run([])


@pytest.mark.parametrize("value", [None, 3, b"bytes", 2.5])
def test_input_of_the_wrong_type_says_what_a_run_takes(value: Any) -> None:
    """Before: a bare TypeError ('NoneType' object is not iterable) from deep inside."""
    from selectools import InvalidInputError

    agent = Agent(provider=ScriptedProvider(["x"]))
    with pytest.raises(InvalidInputError, match="input is a prompt string, a Message"):
        agent.run(value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"run_timeout": "10"}, r"run_timeout='10'\) must be a number of seconds"),
        ({"tool_timeout": True}, r"tool_timeout=True\) must be a number of seconds"),
        ({"max_iterations": 2.5}, r"max_iterations=2.5\) must be a whole number"),
        ({"max_iterations": "3"}, r"max_iterations='3'\) must be a whole number"),
        ({"parallel_tool_calls": "no"}, r"parallel_tool_calls='no'\) must be true or false"),
        ({"temperature": "hot"}, r"temperature='hot'\) must be a number"),
        ({"max_tokens": 1.5}, r"max_tokens=1.5\) must be a whole number"),
    ],
)
def test_a_config_value_of_the_wrong_type_is_refused_up_front(
    options: dict[str, Any], message: str
) -> None:
    """Before: run_timeout="10" failed mid-run comparing a str with an int."""
    with pytest.raises(TypeError, match=message):
        AgentConfig(**options)
    agent = Agent(provider=ScriptedProvider(["x"]))
    with pytest.raises(TypeError, match=message):  # per-run overrides too
        agent.run("hi", config=options)


def test_a_config_of_the_right_types_is_kept() -> None:
    config = AgentConfig(
        max_iterations=3, run_timeout=5, tool_timeout=0.5, temperature=0, max_tokens=100
    )
    assert (config.run_timeout, config.tool_timeout, config.temperature) == (5, 0.5, 0)


def test_what_is_not_a_provider_or_a_prompt_is_refused_when_the_agent_is_built() -> None:
    """Before: Agent([], "openai") was built and failed at its first run."""
    with pytest.raises(TypeError, match=r"needs a Provider .* got 'openai'"):
        Agent([], "openai")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"system_prompt=\.\.\.\) must be a string or None"):
        Agent([], ScriptedProvider(["x"]), system_prompt=3)  # type: ignore[arg-type]


def test_exhausted_script_says_what_to_do() -> None:
    from selectools import ProviderError

    agent = Agent([add], ScriptedProvider([call("add", a=1, b=2)]))
    with pytest.raises(ProviderError, match="Add a final text step"):
        agent.run("go")


async def test_a_stopped_stream_still_tells_what_its_model_calls_used() -> None:
    """A quota charges a run cut short: `usage` is readable after the stream was closed."""
    provider = ScriptedProvider([call("add", a=1, b=2), "3"])
    events = Agent([add], provider).astream("1 + 2?")
    async for event in events:
        if isinstance(event, ToolCallStarted):
            break
    first = events.usage
    await events.aclose()
    assert first.requests == 1
    assert first.input_tokens > 0
    assert events.usage == first  # stopped: no second model call
    assert provider.remaining == 1
    assert len(events.run_id) == 32


def test_a_sync_stream_tells_its_usage_as_it_goes() -> None:
    provider = ScriptedProvider([call("add", a=1, b=2), "3"])
    events = Agent([add], provider).stream("1 + 2?")
    usages = [events.usage.requests for _ in events]
    assert usages[0] == 0  # nothing asked yet when the run started
    assert usages[-1] == 2
    events.close()
