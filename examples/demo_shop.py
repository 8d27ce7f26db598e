"""The demo's shared parts: a shop database (SQLite), its policies (embedded Chroma),
the agent's tools over both, and the model choice.

Both example apps (FastAPI and Flask) import this. With OPENAI_API_KEY or
OPENAI_BASE_URL set, a real model answers; otherwise an offline demo model
that says so plainly and still calls the tools.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selectools import (
    Agent,
    ConversationMemory,
    ModelRequest,
    OpenAIProvider,
    Provider,
    Reply,
    ScriptedProvider,
    Tool,
    call,
)
from selectools.sessions import SQLAlchemySessionStore

DATA_DIR = Path(os.environ.get("SELECTOOLS_DEMO_DIR", Path.cwd() / ".demo-data"))
DB_PATH = DATA_DIR / "shop.db"
DEMO_KEY = "demo-key"


def api_key() -> str:
    """The key clients must send; SELECTOOLS_API_KEY, or 'demo-key' for local tries."""
    return os.environ.get("SELECTOOLS_API_KEY", DEMO_KEY)


@contextmanager
def setup_lock() -> Iterator[None]:
    """One process at a time prepares the data folder.

    `gunicorn -w 4` imports the app in every worker at once, and embedded Chroma
    cannot create its files from two processes at the same moment ("table
    collections already exists"). Past setup, the workers share the files fine.
    """
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / ".setup.lock", "w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: the dev servers there run one process
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def create_shop() -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(DB_PATH) as db:
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS orders (
                id INTEGER PRIMARY KEY, customer TEXT, status TEXT, total_eur REAL
            );
            INSERT OR IGNORE INTO orders VALUES
                (1001, 'Ada Lovelace', 'shipped', 129.90),
                (1002, 'Alan Turing', 'processing', 48.00),
                (1003, 'Grace Hopper', 'delivered', 315.25);
            """
        )


POLICIES = {
    "refunds": "Refunds go back to the original card within 5 business days.",
    "returns": "Returns are free within 30 days: print the label from your account.",
    "shipping": "Orders ship from Rotterdam and arrive in 2 to 4 business days.",
}


def get_order(order_id: int) -> dict[str, object]:
    """Look up an order by its number (the host app's own route uses this)."""
    with sqlite3.connect(f"file:{DB_PATH}?mode=ro", uri=True) as db:
        row = db.execute(
            "SELECT id, customer, status, total_eur FROM orders WHERE id = ?", (order_id,)
        ).fetchone()
    if row is None:
        raise LookupError(f"No order {order_id}. Known orders are 1001 to 1003.")
    return dict(zip(("order_id", "customer", "status", "total_eur"), row, strict=True))


OFFLINE_NOTICE = (
    "(Offline demo model: no OPENAI_API_KEY or OPENAI_BASE_URL is set, so scripted "
    "answers stand in for a real LLM.)"
)


def offline_model(request: ModelRequest) -> Reply | str:
    """Queries the orders table for an order number, searches the policies otherwise."""
    last = request.messages[-1]
    if last.role == "tool":
        return f"Here is what I found: {last.content} {OFFLINE_NOTICE}"
    text = last.content or ""
    match = re.search(r"\b(\d{3,})\b", text)
    if match:
        sql = f"SELECT id, customer, status, total_eur FROM orders WHERE id = {int(match.group(1))}"
        return Reply(calls=(call("run_query", sql=sql),))
    if re.search(r"refund|return|ship|deliver|policy", text, re.IGNORECASE):
        return Reply(calls=(call("search_documents", query=text, k=1),))
    return (
        "Ask me about an order ('Where is order 1001?') or a policy ('How do refunds "
        f"work?'). {OFFLINE_NOTICE}"
    )


def choose_provider() -> Provider:
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        return OpenAIProvider()
    return ScriptedProvider(responder=offline_model, chunk_delay=0.02)


def shop_tools() -> list[Tool]:
    """SQL over the orders (read-only) and search over the policies (embedded Chroma)."""
    import chromadb
    from selectools_chroma import ChromaToolkit, HashingEmbeddingFunction
    from selectools_sql import SQLToolkit

    with setup_lock():
        create_shop()
        sql = SQLToolkit(f"sqlite:///{DB_PATH}", include_tables=["orders"], max_rows=20)
        client = chromadb.PersistentClient(path=str(DATA_DIR / "chroma"))
        policies = ChromaToolkit(
            client=client, name="shop_policies", embedding_function=HashingEmbeddingFunction()
        )
        policies.collection.upsert(ids=list(POLICIES), documents=list(POLICIES.values()))
    return [*sql.tools(), *policies.tools()]


def build_agent() -> Agent:
    tools = shop_tools()  # creates the data folder and the shop first
    store = SQLAlchemySessionStore(f"sqlite:///{DATA_DIR / 'sessions.db'}")
    return Agent(
        tools,
        choose_provider(),
        system_prompt=(
            "You are the shop's assistant. Query the orders table and search the policies; "
            "never invent orders."
        ),
        memory=ConversationMemory(store, max_messages=40),
    )


def welcome(url: str, *, docs: bool = False) -> str:
    """What the demo prints when it starts: where it runs, the key, the playground link."""
    key = api_key()
    real = os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL")
    model = "a real model" if real else "the offline model"
    lines = [
        f"Acme Shop demo on {url} ({model})",
        f"  API key:    {key}   (send 'X-API-Key: {key}' or 'Authorization: Bearer {key}')",
        f"  Playground: {url}/agent/playground?key={key}",
    ]
    if docs:
        lines.append(f"  API docs:   {url}/docs")
    return "\n".join(lines)
