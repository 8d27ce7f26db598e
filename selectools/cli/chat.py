"""`selectools chat AGENT`: talk to an agent in the terminal, answers streamed as they come."""

from __future__ import annotations

import uuid

import click

from ..agent import Agent
from ..errors import SelectoolsError
from ..events import RunFinished, TextDelta, ToolCallFinished, ToolCallStarted, ToolProgress
from .fail import failures
from .run import describe_call
from .target import load_agent

__all__ = ["chat"]

_QUIT = {"/exit", "/quit", "exit", "quit"}


@click.command(
    short_help="Chat with an agent in the terminal.",
    epilog="Example:\n\n  selectools chat examples/fastapi_app.py:agent",
)
@click.argument("agent", metavar="AGENT")
@click.option("--session", "session_id", default=None, help="Session id (default: a new one).")
def chat(agent: str, session_id: str | None) -> None:
    """Chat with AGENT: each answer streams in as the model writes it, tool calls
    shown as they run. The conversation is one session. /exit or Ctrl-D ends it.

    AGENT is 'module:name' or 'path/to/file.py:name' naming an Agent (or a
    function returning one).
    """
    with failures():
        loaded = load_agent(agent)
    session = session_id or f"cli-{uuid.uuid4().hex[:12]}"
    click.echo(f"Chatting with {agent} (session {session}). /exit or Ctrl-D to leave.")
    while True:
        try:
            line = click.prompt("you", prompt_suffix="> ", default="", show_default=False)
        except click.Abort:  # Ctrl-D / Ctrl-C at the prompt
            click.echo()
            return
        text = line.strip()
        if not text:
            continue
        if text in _QUIT:
            return
        _turn(loaded, text, session)


def _turn(agent: Agent, text: str, session: str) -> None:
    """One streamed answer; a failure is reported and the chat goes on."""
    stream = agent.stream(text, session_id=session)
    at_line_start = True
    click.echo("agent> ", nl=False)
    try:
        for event in stream:
            if isinstance(event, TextDelta):
                click.echo(event.text, nl=False)
                at_line_start = event.text.endswith("\n")
            elif isinstance(event, ToolCallStarted):
                if not at_line_start:
                    click.echo()
                click.echo(f"   (calling {event.name})")
                at_line_start = True
            elif isinstance(event, ToolProgress):
                click.echo(f"   ... {event.chunk}")
            elif isinstance(event, ToolCallFinished):
                click.echo(describe_call(event.record, width=200))
                click.echo("agent> ", nl=False)
                at_line_start = False
            elif isinstance(event, RunFinished):
                click.echo()
    except SelectoolsError as exc:
        click.echo(f"\nerror: {exc}", err=True)
    except Exception as exc:  # a bug in the user's tools or model: say so, keep chatting
        click.echo(f"\nerror: {type(exc).__name__}: {exc}", err=True)
    except KeyboardInterrupt:
        click.echo("\n(interrupted)")
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
