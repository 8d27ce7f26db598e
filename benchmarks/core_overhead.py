"""Framework overhead of one agent run against a hand-written loop, in the same process.

Both sides drive the same ScriptedProvider (one tool call, then a final
answer) and both validate the model's arguments with pydantic
(`model_validate_json`) and answer a bad tool name or bad arguments with an
error message, so the difference is what selectools adds on top: events,
records, usage, sessions. Run: `python benchmarks/core_overhead.py`.

A third loop, `records_floor`, is flat like the hand-written one but builds
what a selectools run hands back (run id and context, the validated
invocation, its record and timing, the usage sum, the AgentResult): the
distance from the hand loop to it is the price of those records alone, and
from it to `Agent.run` the price of the loop's structure (sessions, memory,
policies, timeouts, approval, observers), all switched off here.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from selectools import (
    Agent,
    AgentResult,
    Message,
    ModelRequest,
    RunContext,
    RunFinished,
    ScriptedProvider,
    ToolCallRecord,
    ToolInvocation,
    Usage,
    call,
    tool,
)

RUNS = 200
REPEATS = 21
Row = tuple[float, float, float]  # selectools µs, hand-written µs, median ratio


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def script() -> ScriptedProvider:
    return ScriptedProvider([call("get_weather", city="Paris"), "Sunny."], cycle=True)


SCHEMAS = (tool(get_weather).schema(),)


class GetWeatherArgs(BaseModel):
    city: str


def dispatch(name: str, arguments: str, impl: Callable[..., Any]) -> Any:
    """What a careful hand-written loop does with a call: check the name, validate the arguments."""
    if name != "get_weather":
        return f"Error: unknown tool {name!r}"
    try:
        args = GetWeatherArgs.model_validate_json(arguments)
    except ValidationError as exc:
        return f"Error: bad arguments for {name}: {exc}"
    return impl(city=args.city)


def hand_loop(provider: ScriptedProvider) -> str:
    """The floor: call the model, validate and dispatch the tool, append messages."""
    messages = [Message.user("Weather in Paris?")]
    while True:
        response = provider.complete(ModelRequest(messages=tuple(messages), tools=SCHEMAS))
        messages.append(response.message)
        if not response.message.tool_calls:
            return response.message.content or ""
        for tc in response.message.tool_calls:
            output = dispatch(tc.name, tc.arguments, get_weather)
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


WEATHER = tool(get_weather)


def records_floor(provider: ScriptedProvider) -> str:
    """The hand loop, building every record a selectools run returns (no layers, no features)."""
    run_id = os.urandom(16).hex()
    context = RunContext(run_id, None, None, {})
    prompt = [Message("user", "Weather in Paris?")]
    added: list[Message] = []
    records: list[ToolCallRecord] = []
    usage = Usage()
    calls = 0
    while True:
        calls += 1
        request = ModelRequest((*prompt, *added), SCHEMAS, context=context)
        response = provider.complete(request)
        usage = usage + response.usage
        added.append(response.message)
        if not response.message.tool_calls:
            break
        for tc in response.message.tool_calls:
            started = time.perf_counter()
            arguments: dict[str, Any] | None = None
            value: str | None = None
            error: str | None = None
            if tc.name != "get_weather":
                error = f"unknown tool {tc.name!r}"
            else:
                try:
                    arguments = dict(GetWeatherArgs.model_validate_json(tc.arguments).__dict__)
                except ValidationError as exc:
                    error = f"bad arguments for {tc.name}: {exc}"
            if arguments is not None:
                invocation = ToolInvocation(tc, WEATHER, arguments, context, started)
                value = get_weather(**invocation.arguments)
            output = value if value is not None else f"Error: {error}"
            elapsed = (time.perf_counter() - started) * 1000
            record = ToolCallRecord(
                tc.id, tc.name, tc.arguments, arguments, value, output, error, None, elapsed
            )
            records.append(record)
            added.append(Message("tool", output, (), tc.id, tc.name))
    final = added[-1]
    result = AgentResult(
        final.content or "", (*prompt, *added), tuple(added), tuple(records), usage, run_id,
        None, response.model, calls, response.provider,
    )  # fmt: skip
    return RunFinished(run_id, result).result.text


async def aget_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


async def hand_loop_async(provider: ScriptedProvider, *, thread: bool) -> str:
    """The async floor; `thread=True` keeps the loop free as selectools does for sync tools."""
    messages = [Message.user("Weather in Paris?")]
    while True:
        response = await provider.acomplete(ModelRequest(messages=tuple(messages), tools=SCHEMAS))
        messages.append(response.message)
        if not response.message.tool_calls:
            return response.message.content or ""
        for tc in response.message.tool_calls:
            if thread:
                output = await asyncio.to_thread(dispatch, tc.name, tc.arguments, get_weather)
            else:
                output = await dispatch(tc.name, tc.arguments, aget_weather)
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


def paired(ours: Callable[[], Any], hand: Callable[[], Any], *, is_async: bool) -> Row:
    """Alternate short batches of both sides and take the median of the pairwise ratios.

    Interleaving keeps a busy machine's slow moments from landing on one side only.
    """

    async def abatch(fn: Callable[[], Any]) -> float:
        start = time.perf_counter()
        for _ in range(RUNS):
            await fn()
        return (time.perf_counter() - start) / RUNS * 1e6

    def batch(fn: Callable[[], Any]) -> float:
        if is_async:
            return asyncio.run(abatch(fn))
        start = time.perf_counter()
        for _ in range(RUNS):
            fn()
        return (time.perf_counter() - start) / RUNS * 1e6

    mine, floor = [], []
    for _ in range(REPEATS):
        floor.append(batch(hand))
        mine.append(batch(ours))
    ratio = statistics.median(m / f for m, f in zip(mine, floor, strict=True))
    return statistics.median(mine), statistics.median(floor), ratio


def import_ms(statement: str, *, after: str = "", repeats: int = 15) -> float:
    """What `statement` adds, timed inside fresh interpreters that already ran `after`.

    Timing inside the process leaves out interpreter start-up and its noise; the
    median of fresh processes keeps any one slow start from counting.
    """
    code = (
        f"{after}\nimport time\nstarted = time.perf_counter()\n{statement}\n"
        "print(time.perf_counter() - started)"
    )

    def once() -> float:
        out = subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        )
        return float(out.stdout)

    return statistics.median(once() for _ in range(repeats)) * 1000


def main() -> None:
    agent = Agent([get_weather], script())
    agent.run("warm up")  # first run loads pydantic validators and the price table
    hand_provider = script()
    async_agent = Agent([tool(aget_weather, name="get_weather")], script())
    async_agent.run("warm up")
    assert records_floor(script()) == agent.run("Weather in Paris?").text
    rows = {
        "run() 1 tool call + answer (sync)": paired(
            lambda: agent.run("Weather in Paris?"),
            lambda: hand_loop(hand_provider),
            is_async=False,
        ),
        "flat loop building selectools' records (sync)": paired(
            lambda: records_floor(hand_provider),
            lambda: hand_loop(hand_provider),
            is_async=False,
        ),
        "arun() 1 async tool call + answer": paired(
            lambda: async_agent.arun("Weather in Paris?"),
            lambda: hand_loop_async(hand_provider, thread=False),
            is_async=True,
        ),
        "arun() 1 sync tool call (in a thread) + answer": paired(
            lambda: agent.arun("Weather in Paris?"),
            lambda: hand_loop_async(hand_provider, thread=True),
            is_async=True,
        ),
    }
    print("| case | selectools | hand-written loop | ratio |")
    print("|---|---|---|---|")
    for name, (mine, floor, ratio) in rows.items():
        print(f"| {name} | {mine:.1f} µs | {floor:.1f} µs | {ratio:.2f}x |")
    print(f"| `import selectools` | {import_ms('import selectools'):.0f} ms | | |")
    adapter = import_ms("import selectools_fastapi", after="import fastapi")
    print(f"| `import selectools_fastapi` after `import fastapi` | {adapter:.0f} ms | | |")


if __name__ == "__main__":
    main()
