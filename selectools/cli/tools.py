"""`selectools tools`: the toolkits installed packages publish, and their tools."""

from __future__ import annotations

import json

import click

from ..registry import GROUP, describe_installed, format_listing

__all__ = ["tools"]


@click.command(
    short_help="List installed toolkits and their tools.",
    help=f"List installed toolkits ('{GROUP}' entry points) and their tools.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def tools(as_json: bool) -> None:
    infos = describe_installed()
    if as_json:
        click.echo(json.dumps([info.to_dict() for info in infos], indent=2))
    else:
        click.echo(format_listing(infos))
