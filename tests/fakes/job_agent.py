"""The agent the Celery worker tests run: a write tool that counts rows in a real SQLite table.

"sell <item>" calls `record_sale(item)` (one INSERT), then answers; "slow sell
<item>" takes a second over its answer (time to kill the worker after the
write); "wait <n>" just takes n seconds. The database is `JOB_TEST_DB`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3

from selectools import Agent, ModelRequest, Reply, ScriptedProvider, call, tool
from selectools.providers.base import ModelResponse

DB = os.environ.get("JOB_TEST_DB", "")


def connect(path: str = DB) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("CREATE TABLE IF NOT EXISTS sales (item TEXT NOT NULL)")
    return db


@tool(writes=True)
def record_sale(item: str) -> str:
    """Record one sale (a write: it must happen once)."""
    with connect() as db:
        db.execute("INSERT INTO sales (item) VALUES (?)", (item,))
    return f"recorded {item}"


def respond(request: ModelRequest) -> Reply | str:
    first = next(m.content or "" for m in request.messages if m.role == "user")
    last = request.messages[-1]
    if last.role == "tool":
        return f"done: {last.content}"
    if first.startswith("wait "):
        return "waited"
    return Reply(calls=(call("record_sale", item=first.split("sell ", 1)[1]),))


class PacedModel(ScriptedProvider):
    """Scripted, with the pauses the prompt asks for."""

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        first = next(m.content or "" for m in request.messages if m.role == "user")
        answering = request.messages[-1].role == "tool"
        if first.startswith("slow ") and answering:
            await asyncio.sleep(1.0)
        elif first.startswith("wait "):
            await asyncio.sleep(float(first.split()[1]))
        return await super().acomplete(request)


def build_agent() -> Agent:
    return Agent([record_sale], PacedModel(responder=respond, keep_requests=0))
