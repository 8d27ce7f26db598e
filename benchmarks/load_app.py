"""The app the load test serves with `uvicorn --workers 2`: sessions in PostgreSQL, a 1 s model.

Only for `benchmarks/load_sessions.py`: the caller's identity comes from an
`X-User` header here, which a real app must never trust (use your auth).
"""

from __future__ import annotations

import asyncio
import os

import sqlalchemy
from fastapi import FastAPI, Header

from selectools import Agent, ConversationMemory, ModelRequest, Reply, ScriptedProvider, call
from selectools.sessions import SQLAlchemySessionStore
from selectools_fastapi import AgentRouter

CALLS_LOG = os.environ["LOAD_CALLS_LOG"]
TOOL_SECONDS = float(os.environ.get("LOAD_TOOL_SECONDS", "3"))


async def slow_lookup(topic: str) -> str:
    """A tool that takes a while (clients drop while it runs)."""
    await asyncio.sleep(TOOL_SECONDS)
    return f"facts about {topic}"


def respond(request: ModelRequest) -> Reply | str:
    last = request.messages[-1]
    prompt = next(m.content for m in request.messages if m.role == "user") or ""
    with open(CALLS_LOG, "a") as log:  # one short line per model call, appended atomically
        log.write(f"{os.getpid()} {prompt} {'after-tool' if last.role == 'tool' else 'first'}\n")
    if last.role == "tool":
        return f"Done: {last.content}"
    if prompt.startswith("slow "):
        return Reply(calls=(call("slow_lookup", topic=prompt.removeprefix("slow ")),))
    return f"You said: {prompt}"


engine = sqlalchemy.create_engine(os.environ["LOAD_DATABASE_URL"], pool_size=20, max_overflow=20)
store = SQLAlchemySessionStore(engine, table_prefix=os.environ["LOAD_TABLE_PREFIX"])
agent = Agent(
    [slow_lookup],
    ScriptedProvider(responder=respond, latency=1.0),
    memory=ConversationMemory(store),
)


def user(x_user: str = Header()) -> str:
    return x_user


app = FastAPI()
app.include_router(AgentRouter(agent, identity=user), prefix="/agent")


@app.get("/debug/tasks")
async def tasks() -> dict[str, int]:
    return {"pid": os.getpid(), "tasks": len(asyncio.all_tasks())}
