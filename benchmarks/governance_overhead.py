"""What guardrails and the audit log cost per run, against the bare agent in the same process.

Every variant drives the same ScriptedProvider (one tool call, then a
200-character answer) with a 300-character user message that carries an
email and a card number, so redaction has work to do. Variants: the bare
agent; `Guardrails(RedactPII())` (input, output, tool arguments and result);
all four built-ins; streamed with the built-ins (the answer held back per
sentence); `AuditLog` to memory, to JSON log lines (logger disabled: the
formatting cost) and to SQLite (a file in a temporary folder, one INSERT
and commit per call). Ratios only; absolute numbers depend on the machine.
Run: `python benchmarks/governance_overhead.py`.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from selectools import Agent, ScriptedProvider, call, tool
from selectools.audit import AuditLog, LogSink, MemoryAuditSink, SQLAuditSink
from selectools.guardrails import DenyPatterns, Guardrails, InjectionMarkers, MaxLength, RedactPII

RUNS = 300
REPEATS = 5
PROMPT = (
    "Hello, I am Ada (ada.lovelace@example.org) and I would like to update the card on file "
    "to 4111 1111 1111 1111. Please also confirm the delivery address for the last order, "
    "which should go to the office in Oslo rather than the flat. Thank you very much!"
)
ANSWER = (
    "Done. The card ending in 1111 is now on file. The next delivery goes to the office in "
    "Oslo. Your last order shipped yesterday and should arrive within three working days. "
    "Anything else?"
)


@tool
def update_card(customer: str, note: str) -> str:
    """Update a customer's card."""
    return f"updated {customer}: {note}"


def agent(*policies: object) -> Agent:
    step = call("update_card", customer="ada", note="card 4111 1111 1111 1111")
    model = ScriptedProvider([step, ANSWER], cycle=True)
    return Agent([update_card], model, policies=policies)


def per_run_us(run: Callable[[], object]) -> float:
    """Median over REPEATS of the mean microseconds per run."""
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(RUNS):
            run()
        samples.append((time.perf_counter() - started) / RUNS * 1e6)
    return statistics.median(samples)


def main() -> None:
    logging.getLogger("selectools.audit").disabled = True
    every = (RedactPII(), MaxLength(4000), DenyPatterns([r"drop\s+table"]), InjectionMarkers())
    with tempfile.TemporaryDirectory() as folder:
        sqlite = SQLAuditSink(f"sqlite:///{folder}/audit.db")
        variants: dict[str, Callable[[], object]] = {}
        bare = agent()
        variants["bare agent"] = lambda: bare.run(PROMPT)
        pii = agent(Guardrails(RedactPII()))
        variants["Guardrails(RedactPII())"] = lambda: pii.run(PROMPT)
        built_ins = agent(Guardrails(*every))
        variants["Guardrails(all four built-ins)"] = lambda: built_ins.run(PROMPT)
        bare_stream = agent()
        variants["bare agent, streamed"] = lambda: list(bare_stream.stream(PROMPT))
        guarded_stream = agent(Guardrails(*every))
        variants["all four built-ins, streamed"] = lambda: list(guarded_stream.stream(PROMPT))
        memory = agent(AuditLog(MemoryAuditSink()))
        variants["AuditLog(MemoryAuditSink())"] = lambda: memory.run(PROMPT)
        lines = agent(AuditLog(LogSink(), redact=["note"]))
        variants["AuditLog(LogSink()) JSON lines"] = lambda: lines.run(PROMPT)
        sql = agent(AuditLog(sqlite, redact=["note"]))
        variants["AuditLog(SQLAuditSink(sqlite file))"] = lambda: sql.run(PROMPT)

        base = per_run_us(variants["bare agent"])
        stream_base = per_run_us(variants["bare agent, streamed"])
        print(f"{'variant':40} {'us/run':>9} {'x bare':>7}")
        for name, run in variants.items():
            cost = per_run_us(run)
            reference = stream_base if "streamed" in name else base
            print(f"{name:40} {cost:9.1f} {cost / reference:7.2f}")
        sqlite.close()


if __name__ == "__main__":
    main()
