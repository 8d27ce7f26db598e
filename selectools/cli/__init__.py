"""The `selectools` command (also `python -m selectools`): serve, run, chat, list tools, demo.

Each subcommand lives in its own module and is registered here by its import
path, so adding a command is one new module and one line in `COMMANDS`. click
is imported only when the command runs (the `cli` extra), never by
`import selectools`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

__all__ = ["COMMANDS", "build", "main"]

#: "module:attribute" of each subcommand (a click.Command), in `--help` order.
COMMANDS: list[str] = [
    "selectools.cli.serve:serve",
    "selectools.cli.run:run",
    "selectools.cli.chat:chat",
    "selectools.cli.tools:tools",
    "selectools.cli.docs:docs",
    "selectools.cli.demo:demo",
]


def build() -> click.Group:
    """The click group with every registered command (imports click)."""
    from ..extras import require

    require("click", extra="cli", feature="The selectools command")
    import click

    from .. import __version__

    @click.group(
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        help=(
            "Serve, run and chat with selectools agents from the terminal.\n\n"
            "An AGENT is 'module:name' (an importable module) or 'path/to/file.py:name'; "
            "the name may be an Agent or a function returning one."
        ),
    )
    @click.version_option(__version__, "-V", "--version", prog_name="selectools")
    def cli() -> None:
        pass

    for target in COMMANDS:
        module, _, name = target.partition(":")
        cli.add_command(getattr(importlib.import_module(module), name))
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `selectools` console script."""
    from ..errors import MissingDependencyError

    try:
        cli = build()
    except MissingDependencyError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    cli.main(args=list(argv) if argv is not None else None, prog_name="selectools")
