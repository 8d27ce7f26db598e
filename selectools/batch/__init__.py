"""Many runs at once: `Agent.batch`/`abatch`, the pool behind every batch, checkpoints, progress.

- `pool.map_ordered`: bounded concurrency, answers in input order (also used
  by the HTTP `/batch` route and background jobs).
- `runner`: the agent batch: rate limit, quota, checkpoint, progress.
- `checkpoint`: `FileCheckpoint` (JSON lines) and the `Checkpoint` protocol.
- `progress`: `BatchProgress` snapshots and the tqdm bar.
"""

from __future__ import annotations

from .checkpoint import Checkpoint, FileCheckpoint
from .pool import map_ordered
from .progress import BatchProgress
from .runner import BatchResults, run_agent_batch

__all__ = [
    "BatchProgress",
    "BatchResults",
    "Checkpoint",
    "FileCheckpoint",
    "map_ordered",
    "run_agent_batch",
]
