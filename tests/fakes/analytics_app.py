"""The app `uvicorn --workers 2` serves in the shared-analytics test: facts in PostgreSQL.

Only for tests: the caller's identity comes from an `X-User` header here, which
a real app must never trust.
"""

from __future__ import annotations

import os

from fastapi import FastAPI, Header

from selectools import Agent, ScriptedProvider, call, tool
from selectools.analytics import Analytics, SQLAnalyticsStore
from selectools.serving import Caller, ServingOptions
from selectools_fastapi import AgentRouter


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key.upper()


def respond(request: object) -> object:
    last = request.messages[-1]  # type: ignore[attr-defined]
    return "done" if last.role == "tool" else call("lookup", key=last.content)


store = SQLAnalyticsStore(os.environ["ANALYTICS_URL"], prefix=os.environ["ANALYTICS_PREFIX"])
agent = Agent([lookup], ScriptedProvider(responder=respond), policies=[Analytics(store)])


def user(x_user: str = Header()) -> str:
    return x_user


def is_admin(caller: Caller) -> bool:
    return caller.identity == "admin"


options = ServingOptions(analytics_route=True, analytics_admin=is_admin)
app = FastAPI()
app.include_router(AgentRouter(agent, identity=user, options=options), prefix="/agent")


@app.get("/health")
async def health() -> dict[str, int]:
    return {"pid": os.getpid()}
