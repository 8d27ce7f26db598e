"""Tokens sent over a 200-turn session: no window, window + summary, compression, both.

Each turn is a question, a tool call whose result is pretty-printed JSON (as
many APIs answer), and a short answer. The "model" is ScriptedProvider, which
estimates input tokens from what it receives (4 characters a token), so the
numbers are what each memory setup sends, summarizer calls included; no
timing is involved. Ratios are against the unwindowed session.
Run: `python benchmarks/memory_tokens.py`.
"""

from __future__ import annotations

import json
import re

from selectools import Agent, ConversationMemory, ModelRequest, ScriptedProvider, tool
from selectools.memory import Summarizer
from selectools.policies import CompressPrompt
from selectools.providers.scripted import Step, call

TURNS = 200
BUDGET = 3000


@tool
def get_order(order_id: int) -> str:
    """An order as an API answers it."""
    lines = [{"sku": f"A-{n}", "qty": n % 3 + 1, "price": 9.5} for n in range(12)]
    return json.dumps({"order": order_id, "status": "shipped", "lines": lines}, indent=2)


def model(request: ModelRequest) -> Step:
    last = request.messages[-1]
    if last.role == "tool":
        return "Order shipped; it has 12 lines and arrives on Friday."
    number = int(re.findall(r"\d+", last.content or "0")[0])
    return call("get_order", order_id=number)


def summarizer() -> Summarizer:
    text = "The user asked about many orders; each had shipped and arrives on Friday."
    return Summarizer(ScriptedProvider([text], cycle=True), max_tokens=120)


def session(memory: ConversationMemory, policies: list[object]) -> tuple[int, int, int]:
    """(total input tokens, input tokens of the last first request, requests)."""
    provider = ScriptedProvider(responder=model, keep_requests=1)
    agent = Agent([get_order], provider, memory=memory, policies=policies)
    for turn in range(TURNS):
        agent.run(f"Where is order {1000 + turn}?", session_id="s")
    usage = agent.usage
    last = agent.run(f"Where is order {1000 + TURNS}?", session_id="s").usage
    return usage.input_tokens, last.input_tokens, usage.requests


def main() -> None:
    setups = {
        "no window (everything, every turn)": (ConversationMemory(), []),
        f"window {BUDGET} tokens + summary": (
            ConversationMemory(max_tokens=BUDGET, summarize=summarizer()),
            [],
        ),
        "CompressPrompt, no window": (ConversationMemory(), [CompressPrompt()]),
        f"window {BUDGET} + summary + CompressPrompt": (
            ConversationMemory(max_tokens=BUDGET, summarize=summarizer()),
            [CompressPrompt()],
        ),
    }
    rows = []
    baseline = None
    for name, (memory, policies) in setups.items():
        total, last, requests = session(memory, policies)
        baseline = baseline or total
        rows.append((name, total, last, requests, total / baseline))
    print(
        f"| {TURNS}-turn session, one tool call per turn | input tokens, all runs | "
        f"last run's input tokens | model calls | vs no window |"
    )
    print("|---|---|---|---|---|")
    for name, total, last, requests, ratio in rows:
        print(f"| {name} | {total:,} | {last:,} | {requests} | {ratio:.3f}x |")


if __name__ == "__main__":
    main()
