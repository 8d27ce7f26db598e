"""`selectools docs TARGET`: Markdown (or JSON) describing every tool (see `selectools.docgen`)."""

from __future__ import annotations

import click

from ..docgen import load_tools_from, to_json, to_markdown

__all__ = ["docs"]


@click.command(
    short_help="Write docs for an agent's tools.",
    help=(
        "Write Markdown (or JSON with --json) describing every tool of TARGET: name, "
        "description, parameters with types, defaults and constraints, whether it writes "
        "or needs approval, docstring examples. TARGET is 'module:agent', "
        "'path/file.py:tools' (an Agent, Toolkit, Tool, list or factory) or a module."
    ),
)
@click.argument("target")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of Markdown.")
@click.option("--title", default="Tools", show_default=True, help="The Markdown page title.")
def docs(target: str, output: str | None, as_json: bool, title: str) -> None:
    try:
        tools = load_tools_from(target)
    except (ImportError, TypeError, ValueError, LookupError) as exc:
        raise click.ClickException(str(exc)) from None
    text = to_json(tools) if as_json else to_markdown(tools, title=title)
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"Wrote {len(tools)} tool(s) to {output}.", err=True)
    else:
        click.echo(text, nl=False)
