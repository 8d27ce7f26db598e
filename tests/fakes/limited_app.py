"""The app `uvicorn --workers 2` serves in the shared-limits test: counters in Redis.

Only for `tests/fastapi/test_limits_many_workers.py`: the caller's identity
comes from an `X-User` header here, which a real app must never trust.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Header, Request, Response

from selectools import Agent, ScriptedProvider
from selectools.serving import ServingOptions
from selectools_fastapi import AgentRouter

options = ServingOptions(
    rate_limit=os.environ["LIMITS_RATE"],
    quota_tokens=int(os.environ["LIMITS_QUOTA_TOKENS"]),
    limits_storage=os.environ["LIMITS_REDIS_URL"],
    limits_namespace=os.environ["LIMITS_NAMESPACE"],
)
agent = Agent(provider=ScriptedProvider(["ok"], cycle=True))


def user(x_user: str = Header()) -> str:
    return x_user


app = FastAPI()
app.include_router(AgentRouter(agent, identity=user, options=options), prefix="/agent")


@app.middleware("http")
async def name_the_worker(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers["x-worker"] = str(os.getpid())
    return response


@app.get("/health")
async def health() -> dict[str, int]:
    return {"pid": os.getpid()}
