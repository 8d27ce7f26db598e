"""An agent over a SQLite database, read-only (runs offline with a scripted model).

Run: python examples/connectors/sql_agent.py
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from selectools_sql import SQLToolkit

from selectools import Agent, ScriptedProvider, call


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "crm.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE deals (id INTEGER PRIMARY KEY, name TEXT, stage TEXT, amount REAL);"
            "INSERT INTO deals VALUES (1, 'Acme', 'won', 12000), (2, 'Globex', 'open', 8000);"
        )
    toolkit = SQLToolkit(f"sqlite:///{path}", include_tables=["deals"], max_rows=20)
    model = ScriptedProvider(
        [
            call("describe_tables", table_names=["deals"]),
            call("run_query", sql="SELECT stage, SUM(amount) AS total FROM deals GROUP BY stage"),
            call("run_query", sql="DELETE FROM deals"),  # refused: the tool is read-only
            "Won: 12,000; open: 8,000.",
        ]
    )
    result = Agent(toolkit.tools(), model).run("How much is won and how much is open?")
    for record in result.tool_calls:
        print(f"{record.name}: {record.error or record.output[:120]}")
    print("Answer:", result.text)


if __name__ == "__main__":
    main()
