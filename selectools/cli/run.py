"""`selectools run AGENT "question"`: one run, its tool calls, its answer."""

from __future__ import annotations

import json

import click

from ..results import ToolCallRecord
from .fail import failures
from .target import load_agent

__all__ = ["describe_call", "run"]


@click.command(
    short_help="Ask an agent one question.",
    epilog='Example:\n\n  selectools run examples/fastapi_app.py:agent "Where is order 1001?"',
)
@click.argument("agent", metavar="AGENT")
@click.argument("question")
@click.option("--session", "session_id", default=None, help="Continue this session id.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
def run(agent: str, question: str, session_id: str | None, as_json: bool) -> None:
    """Ask AGENT one QUESTION; print each tool call, then the answer.

    AGENT is 'module:name' or 'path/to/file.py:name' naming an Agent (or a
    function returning one). A failed run prints why and exits with status 1.
    """
    with failures():
        result = load_agent(agent).run(question, session_id=session_id)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    for record in result.tool_calls:
        click.echo(describe_call(record))
    click.echo(result.text)


def describe_call(record: ToolCallRecord, width: int = 300) -> str:
    """One tool call on two lines: the call, then its output or error (cut at `width`)."""
    arguments = record.raw_arguments
    if record.arguments is not None:
        arguments = ", ".join(f"{k}={v!r}" for k, v in record.arguments.items())
    outcome = f"error: {record.error}" if record.error is not None else record.output
    if len(outcome) > width:
        outcome = outcome[:width] + f"... ({len(outcome) - width} more characters)"
    return f"-> {record.name}({arguments})\n   {outcome}"
