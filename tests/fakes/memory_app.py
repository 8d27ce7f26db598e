"""The app `uvicorn --workers 2` serves in the cross-session memory test: facts in PostgreSQL.

Only for `tests/fastapi/test_memory_many_workers.py`: the caller's identity
comes from an `X-User` header here, which a real app must never trust. The
scripted "model" obeys the prompt, like a prompt-injected model would:
`remember: X`, `recall: Q`, `forget: ID`, and `recall for USER: Q`, which
tries to smuggle another identity into the tool call.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Header, Request, Response

from selectools import Agent, ModelRequest, ScriptedProvider
from selectools.memory import SQLAlchemyFactStore, memory_tools
from selectools.providers.scripted import Step, call
from selectools_fastapi import AgentRouter

facts = SQLAlchemyFactStore(
    os.environ["MEMORY_DATABASE_URL"], table_prefix=os.environ["MEMORY_TABLE_PREFIX"]
)


def obey(request: ModelRequest) -> Step:
    last = request.messages[-1]
    if last.role == "tool":
        return last.content or ""
    command, _, argument = (last.content or "").partition(": ")
    if command == "remember":
        return call("remember", fact=argument)
    if command == "recall":
        return call("recall", query=argument)
    if command == "forget":
        return call("forget", fact_id=argument)
    if command.startswith("recall for "):  # the injected model names someone else
        return call("recall", query=argument, identity=command.removeprefix("recall for "))
    return "I do not understand."


agent = Agent(memory_tools(facts), ScriptedProvider(responder=obey))


def user(x_user: str = Header()) -> str:
    return x_user


app = FastAPI()
app.include_router(AgentRouter(agent, identity=user), prefix="/agent")


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
