"""The demo's shared parts: a small shop database, its tools, and the model choice.

Both example apps (FastAPI and Flask) import this. With OPENAI_API_KEY or
OPENAI_BASE_URL set, a real model answers; otherwise an offline demo model
that says so plainly and still calls the tools.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from selectools import (
    Agent,
    ConversationMemory,
    ModelRequest,
    OpenAIProvider,
    Provider,
    Reply,
    ScriptedProvider,
    call,
    tool,
)
from selectools.sessions import SQLAlchemySessionStore

DATA_DIR = Path(os.environ.get("SELECTOOLS_DEMO_DIR", Path.cwd() / ".demo-data"))
DB_PATH = DATA_DIR / "shop.db"
DEMO_KEY = "demo-key"


def api_key() -> str:
    """The key clients must send; SELECTOOLS_API_KEY, or 'demo-key' for local tries."""
    return os.environ.get("SELECTOOLS_API_KEY", DEMO_KEY)


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


@tool
def get_order(order_id: int) -> dict[str, object]:
    """Look up an order by its number.

    Args:
        order_id: the order number, e.g. 1001
    """
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
    """Calls get_order when asked about an order number; otherwise explains itself."""
    last = request.messages[-1]
    if last.role == "tool":
        return f"Here is what I found: {last.content} {OFFLINE_NOTICE}"
    match = re.search(r"\b(\d{3,})\b", last.content or "")
    if match:
        return Reply(calls=(call("get_order", order_id=int(match.group(1))),))
    return f"Ask me about an order, e.g. 'Where is order 1001?' {OFFLINE_NOTICE}"


def choose_provider() -> Provider:
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        return OpenAIProvider()
    return ScriptedProvider(responder=offline_model, chunk_delay=0.02)


def build_agent() -> Agent:
    create_shop()
    store = SQLAlchemySessionStore(f"sqlite:///{DATA_DIR / 'sessions.db'}")
    return Agent(
        [get_order],
        choose_provider(),
        system_prompt="You are the shop's assistant. Use the tools; never invent orders.",
        memory=ConversationMemory(store, max_messages=40),
    )
