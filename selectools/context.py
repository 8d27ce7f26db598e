"""Run context: who is asking and in which session, passed to tools outside their schema."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from .frozen import record

__all__ = ["RunContext"]


@record
class RunContext:
    """Per-run facts a tool may need but the model must never choose.

    A tool receives it by declaring a parameter annotated `RunContext`; that
    parameter never appears in the JSON Schema the model sees.
    """

    run_id: str = ""
    session_id: str | None = None
    identity: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
