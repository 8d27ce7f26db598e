"""Turn selectools errors into clean command-line failures (a message, exit status 1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..errors import SelectoolsError

__all__ = ["failures"]


@contextmanager
def failures() -> Iterator[None]:
    """Inside, a SelectoolsError (missing extra, bad target, failed run) ends the command
    with its message instead of a traceback."""
    try:
        yield
    except SelectoolsError as exc:
        raise click.ClickException(str(exc)) from None
