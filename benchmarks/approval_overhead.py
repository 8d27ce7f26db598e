"""What pausing for approval and resuming costs per run, and what a sandboxed call costs.

Each run is one tool call then a short answer (ScriptedProvider). Variants:
the bare agent (the tool needs no approval); the same run paused and resumed
(`agent.run` then `agent.resume(..., True)`) with sessions and paused runs in
memory, in a SQLite file, in PostgreSQL and in Redis (each skipped when its
server is not on 127.0.0.1); and the same tool run in a `SubprocessSandbox`
(`@tool(sandbox=True)`: a fresh process per call). Ratios only; absolute
numbers depend on the machine. Run: `python benchmarks/approval_overhead.py`.
"""

from __future__ import annotations

import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from selectools import Agent, ConversationMemory, ScriptedProvider, call, tool
from tests.fakes import sandboxed_tools

REPEATS = 5


@tool
def note(text: str) -> str:
    """Save a note."""
    return f"saved {text}"


@tool(requires_approval=True)
def careful_note(text: str) -> str:
    """Save a note, once a person agreed."""
    return f"saved {text}"


def per_run_us(run: Callable[[], object], runs: int) -> float:
    """Median over REPEATS of the mean microseconds per run."""
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(runs):
            run()
        samples.append((time.perf_counter() - started) / runs * 1e6)
    return statistics.median(samples)


def up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def paused_and_resumed(memory: ConversationMemory) -> Callable[[], object]:
    model = ScriptedProvider([call("careful_note", text="milk"), "Saved."], cycle=True)
    agent = Agent([careful_note], model, memory=memory)

    def run() -> object:
        paused = agent.run("remember milk", session_id=uuid.uuid4().hex, identity="ada")
        return agent.resume(paused.approval_id or "", True, identity="ada")

    return run


def main() -> None:
    bare_model = ScriptedProvider([call("note", text="milk"), "Saved."], cycle=True)
    bare = Agent([note], bare_model)
    bare_sessions = Agent([note], ScriptedProvider([call("note", text="m"), "S."], cycle=True))
    variants: dict[str, tuple[Callable[[], object], int]] = {
        "bare agent (no approval)": (lambda: bare.run("remember milk"), 300),
        "bare agent, in a session": (
            lambda: bare_sessions.run("m", session_id=uuid.uuid4().hex, identity="ada"),
            300,
        ),
        "paused + resumed, memory": (paused_and_resumed(ConversationMemory()), 300),
    }
    folder = tempfile.mkdtemp()
    from selectools.sessions import SQLAlchemySessionStore

    sqlite = SQLAlchemySessionStore(f"sqlite:///{folder}/s.db")
    variants["paused + resumed, SQLite file"] = (
        paused_and_resumed(ConversationMemory(sqlite)),
        100,
    )
    postgres = None
    if up(5432):
        prefix = f"bench_{uuid.uuid4().hex[:8]}_"
        postgres = SQLAlchemySessionStore(
            "postgresql+psycopg://postgres@127.0.0.1:5432/test", table_prefix=prefix
        )
        variants["paused + resumed, PostgreSQL"] = (
            paused_and_resumed(ConversationMemory(postgres)),
            100,
        )
    if up(6379):
        from selectools.sessions import RedisSessionStore

        redis = RedisSessionStore(
            "redis://127.0.0.1:6379/15", prefix=f"bench:{uuid.uuid4().hex[:8]}:", ttl_seconds=600
        )
        variants["paused + resumed, Redis"] = (paused_and_resumed(ConversationMemory(redis)), 100)
    boxed_model = ScriptedProvider([call("add", a=1, b=2), "3"], cycle=True)
    boxed = Agent([sandboxed_tools.add], boxed_model)
    variants["sandboxed tool call (fresh process)"] = (lambda: boxed.run("add"), 10)

    base = per_run_us(*variants["bare agent (no approval)"])
    print(f"{'variant':40} {'us/run':>10} {'x bare':>8}")
    for name, (run, runs) in variants.items():
        cost = per_run_us(run, runs)
        print(f"{name:40} {cost:10.1f} {cost / base:8.1f}")
    if postgres is not None:
        for table in ("approvals",):
            import sqlalchemy as sa

            with postgres.engine.begin() as conn:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {postgres.table_prefix}{table}"))
        postgres.metadata.drop_all(postgres.engine)


if __name__ == "__main__":
    main()
