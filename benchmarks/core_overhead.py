"""Framework overhead of one agent run against a hand-written loop, in the same process.

Both sides drive the same ScriptedProvider (one tool call, then a final
answer), so the difference is what selectools adds: validation, events,
records, usage. Run: `python benchmarks/core_overhead.py`.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from selectools import Agent, Message, ModelRequest, ScriptedProvider, call, tool

RUNS = 2000
REPEATS = 7


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def script() -> ScriptedProvider:
    return ScriptedProvider([call("get_weather", city="Paris"), "Sunny."], cycle=True)


SCHEMAS = (tool(get_weather).schema(),)


def hand_loop(provider: ScriptedProvider) -> str:
    """The floor: call the model, dispatch the tool from a dict, append messages."""
    tools: dict[str, Callable[..., Any]] = {"get_weather": get_weather}
    messages = [Message.user("Weather in Paris?")]
    while True:
        response = provider.complete(ModelRequest(messages=tuple(messages), tools=SCHEMAS))
        messages.append(response.message)
        if not response.message.tool_calls:
            return response.message.content or ""
        for tc in response.message.tool_calls:
            output = tools[tc.name](**json.loads(tc.arguments))
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


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
            args = json.loads(tc.arguments)
            if thread:
                output = await asyncio.to_thread(get_weather, **args)
            else:
                output = await aget_weather(**args)
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


def per_run_us(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(RUNS):
            fn()
        samples.append((time.perf_counter() - start) / RUNS * 1e6)
    return statistics.median(samples)


def per_run_us_async(make: Callable[[], Any]) -> float:
    async def batch() -> float:
        start = time.perf_counter()
        for _ in range(RUNS):
            await make()
        return (time.perf_counter() - start) / RUNS * 1e6

    return statistics.median(asyncio.run(batch()) for _ in range(REPEATS))


def import_ms(statement: str, repeats: int = 9) -> float:
    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    base = statistics.median(once("pass") for _ in range(repeats))
    return (statistics.median(once(statement) for _ in range(repeats)) - base) * 1000


def main() -> None:
    agent = Agent([get_weather], script())
    agent.run("warm up")  # first run loads pydantic validators and the price table
    hand_provider = script()
    rows = []
    hand = per_run_us(lambda: hand_loop(hand_provider))
    ours = per_run_us(lambda: agent.run("Weather in Paris?"))
    rows.append(("run() 1 tool call + answer (sync)", ours, hand))
    async_agent = Agent([tool(aget_weather, name="get_weather")], script())
    async_agent.run("warm up")
    hand_a = per_run_us_async(lambda: hand_loop_async(hand_provider, thread=False))
    ours_a = per_run_us_async(lambda: async_agent.arun("Weather in Paris?"))
    rows.append(("arun() 1 async tool call + answer", ours_a, hand_a))
    hand_t = per_run_us_async(lambda: hand_loop_async(hand_provider, thread=True))
    ours_t = per_run_us_async(lambda: agent.arun("Weather in Paris?"))
    rows.append(("arun() 1 sync tool call (in a thread) + answer", ours_t, hand_t))
    print("| case | selectools | hand-written loop | ratio |")
    print("|---|---|---|---|")
    for name, mine, floor in rows:
        print(f"| {name} | {mine:.1f} µs | {floor:.1f} µs | {mine / floor:.2f}x |")
    print(f"| `import selectools` | {import_ms('import selectools'):.0f} ms | | |")


if __name__ == "__main__":
    main()
