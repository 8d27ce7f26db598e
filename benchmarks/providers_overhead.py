"""What each native provider and structured output cost per run, against local fake servers.

Providers: the same two-call run (one tool call, then the answer) through the
official SDK of each (openai, anthropic, boto3) against its fake server on
127.0.0.1 (tests/fakes/), so the differences are each SDK's and our
translation's work plus one local HTTP round trip per call. Structured output:
ScriptedProvider in process, a plain text answer against `output_type=Model`
(schema, final_answer tool, validation). Ratios against the first row of each
table, measured in the same run. Run: `python benchmarks/providers_overhead.py`.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from pydantic import BaseModel

from selectools import (
    Agent,
    AnthropicProvider,
    BedrockProvider,
    OpenAIProvider,
    ScriptedProvider,
    call,
    tool,
)
from tests.fakes.anthropic_server import AnthropicReply, FakeAnthropicServer
from tests.fakes.bedrock_server import BedrockReply, FakeBedrockServer
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

REPEATS = 5


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


class Weather(BaseModel):
    city: str
    temp_c: int


def per_run_us(run: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(runs):
            run()
        samples.append((time.perf_counter() - started) / runs * 1e6)
    return statistics.median(samples)


def table(title: str, rows: dict[str, float]) -> None:
    base = next(iter(rows.values()))
    print(f"\n{title}\n{'variant':40} {'us/run':>9} {'ratio':>6}")
    for name, value in rows.items():
        print(f"{name:40} {value:9.0f} {value / base:6.2f}")


def providers(runs: int = 60) -> dict[str, float]:
    os.environ.update(
        AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1"
    )
    openai_fake = FakeOpenAIServer().start()
    claude_fake = FakeAnthropicServer().start()
    bedrock_fake = FakeBedrockServer().start()
    total = (runs * REPEATS + 1) * 2
    for _ in range(total // 2):
        openai_fake.add(
            FakeReply(tool_calls=[("get_weather", {"city": "Paris"})]), FakeReply(text="Sunny.")
        )
        claude_fake.add(
            AnthropicReply(tool_uses=[("get_weather", {"city": "Paris"})]),
            AnthropicReply(text="Sunny."),
        )
        bedrock_fake.add(
            BedrockReply(tool_uses=[("get_weather", {"city": "Paris"})]),
            BedrockReply(text="Sunny."),
        )
    agents = {
        "OpenAIProvider (openai SDK)": Agent(
            [get_weather],
            OpenAIProvider("gpt-4o-mini", base_url=openai_fake.base_url, max_retries=0),
        ),
        "AnthropicProvider (anthropic SDK)": Agent(
            [get_weather],
            AnthropicProvider(api_key="k", base_url=claude_fake.base_url, max_retries=0),
        ),
        "BedrockProvider (boto3 Converse)": Agent(
            [get_weather], BedrockProvider(endpoint_url=bedrock_fake.endpoint_url, max_retries=0)
        ),
    }
    try:
        for chosen in agents.values():
            chosen.run("warm up")
        return {name: per_run_us(lambda a=a: a.run("Weather?"), runs) for name, a in agents.items()}
    finally:
        for fake in (openai_fake, claude_fake, bedrock_fake):
            fake.stop()


def structured(runs: int = 2000) -> dict[str, float]:
    text = Agent(provider=ScriptedProvider(['{"city": "Paris", "temp_c": 21}'], cycle=True))
    tool_answer = Agent(
        provider=ScriptedProvider([call("final_answer", city="Paris", temp_c=21)], cycle=True)
    )
    return {
        "plain text answer": per_run_us(lambda: text.run("?"), runs),
        "output_type=Weather (JSON text)": per_run_us(
            lambda: text.run("?", output_type=Weather), runs
        ),
        "output_type=Weather (final_answer tool)": per_run_us(
            lambda: tool_answer.run("?", output_type=Weather), runs
        ),
    }


if __name__ == "__main__":
    table("Native providers, one tool call + answer (2 HTTP calls)", providers())
    table("Structured output, ScriptedProvider in process", structured())
