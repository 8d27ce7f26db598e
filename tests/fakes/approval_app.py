"""An agent app as `uvicorn tests.fakes.approval_app:app` runs it in several worker processes.

Sessions and paused runs live in the PostgreSQL database at `APPROVAL_DB_URL`
(tables under `APPROVAL_PREFIX`); the write tool inserts a row into
`{APPROVAL_PREFIX}writes` in the same database, so a test can count writes
across processes.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, HTTPException

from selectools import Agent, ConversationMemory, ScriptedProvider, call, tool
from selectools.providers import ModelRequest
from selectools.sessions import SQLAlchemySessionStore
from selectools_fastapi import AgentRouter

URL = os.environ["APPROVAL_DB_URL"]
PREFIX = os.environ["APPROVAL_PREFIX"]
TOKENS = {"token-ada": "ada", "token-bob": "bob"}

engine = sa.create_engine(URL)
writes = sa.Table(
    f"{PREFIX}writes",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
)


@tool(requires_approval=True, writes=True)
def save_note(note: str) -> str:
    """Save a note in the database."""
    with engine.begin() as conn:
        conn.execute(sa.insert(writes).values(note=note, pid=os.getpid()))
    return f"saved in worker {os.getpid()}"


def respond(request: ModelRequest) -> object:
    last = request.messages[-1]
    if last.role == "tool":
        return f"Done: {last.content}"
    return call("save_note", note=last.content or "")


def user(authorization: str | None = Header(default=None)) -> str:
    found = TOKENS.get((authorization or "").removeprefix("Bearer "))
    if found is None:
        raise HTTPException(status_code=401)
    return found


store = SQLAlchemySessionStore(URL, table_prefix=PREFIX)
agent = Agent(
    [save_note],
    ScriptedProvider(responder=respond),  # type: ignore[arg-type]
    memory=ConversationMemory(store),
)
app = FastAPI()


@app.get("/health")
def health() -> dict[str, int]:
    return {"pid": os.getpid()}


app.include_router(AgentRouter(agent, identity=user), prefix="/agent", dependencies=[Depends(user)])
