"""How far a batch is: counts, usage and cost so far, and a terminal progress bar (tqdm).

The bar appears when stderr is a terminal, or when asked for with
`progress=True` (then tqdm must be installed: `selectools[batch]`); it shows
the rate and ETA (tqdm's own) and the tokens and cost so far.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import field
from typing import Any

from ..extras import require
from ..frozen import record
from ..usage import Usage

__all__ = ["BatchProgress", "ProgressBar", "ProgressCallback"]


@record
class BatchProgress:
    """A snapshot after each finished item. `resumed` items came from the checkpoint."""

    total: int
    done: int = 0
    failed: int = 0
    resumed: int = 0
    usage: Usage = field(default_factory=Usage)
    started_at: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at

    def describe(self) -> str:
        cost = "cost unknown" if self.usage.cost_usd is None else f"${self.usage.cost_usd:.4f}"
        return f"{self.usage.total_tokens} tokens, {cost}, {self.failed} failed"


ProgressCallback = Callable[[BatchProgress], Any]


class ProgressBar:
    """A tqdm bar on stderr, or nothing: `wanted` None means "only on a terminal"."""

    def __init__(self, total: int, wanted: bool | None, *, initial: int = 0) -> None:
        self._bar: Any = None
        if wanted is False or (wanted is None and not _on_terminal()):
            return
        try:
            tqdm = require("tqdm", extra="batch", feature="The batch progress bar")
        except ImportError:
            if wanted:
                raise
            return  # asked for nothing, and the terminal gets nothing
        self._bar = tqdm.tqdm(
            total=total, initial=initial, unit="run", desc="batch", file=sys.stderr, leave=True
        )

    def update(self, progress: BatchProgress) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(progress.describe(), refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _on_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())
