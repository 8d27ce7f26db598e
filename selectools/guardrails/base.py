"""The guardrail protocol: a check over one text, at a named stage: pass, rewrite or refuse.

A guardrail looks at one text at a time and says what should happen to it:
`None` (let it through), a `str` (use this text instead: redaction,
quoting) or a `Refusal` (stop: the run fails with `GuardrailRefused`, or a
tool call becomes a refused tool result). It names the stages it checks:

- `input`: a user message, before the model sees it;
- `output`: the model's text, before a client (or the session) sees it;
- `tool_arguments`: each string in a tool call's arguments, before the tool runs;
- `tool_result`: what a tool returned, before the model reads it.

Checks are plain sync functions over text: they run on every model call and
every streamed segment, so they must be quick and must not do I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, Protocol, TypeAlias, runtime_checkable

from ..errors import GuardrailRefused
from ..frozen import record

__all__ = [
    "ALL_STAGES",
    "Check",
    "Guardrail",
    "Refusal",
    "Stage",
    "apply",
    "guardrail_name",
    "stages_of",
]

Stage: TypeAlias = Literal["input", "output", "tool_arguments", "tool_result"]
ALL_STAGES: frozenset[Stage] = frozenset(("input", "output", "tool_arguments", "tool_result"))


@record
class Refusal:
    """The text must not pass; `reason` is said to the caller (never quote the text itself)."""

    reason: str


Check: TypeAlias = "str | Refusal | None"
"""What `Guardrail.check` returns: None passes, a str replaces the text, a Refusal stops it."""


@runtime_checkable
class Guardrail(Protocol):
    """Anything with `stages` and `check(text, stage)`; `name` (optional) appears in errors."""

    stages: frozenset[Stage]

    def check(self, text: str, stage: Stage) -> Check: ...


def guardrail_name(guardrail: object) -> str:
    return str(getattr(guardrail, "name", "") or type(guardrail).__name__)


def stages_of(stages: Iterable[str] | None, default: Iterable[Stage]) -> frozenset[Stage]:
    """Validate a `stages=` argument early: a typo must not silently disable a check."""
    chosen = frozenset(default if stages is None else stages)
    unknown = sorted(chosen - ALL_STAGES)
    if unknown:
        raise ValueError(f"Unknown guardrail stage(s) {unknown}; choose from {sorted(ALL_STAGES)}.")
    return chosen  # type: ignore[return-value]


def apply(guardrails: Sequence[Guardrail], text: str, stage: Stage) -> str:
    """Run every guardrail for `stage` in order, each on the previous one's text.

    Returns the (possibly rewritten) text; raises `GuardrailRefused` at the first refusal.
    """
    for guardrail in guardrails:
        if stage not in guardrail.stages:
            continue
        verdict = guardrail.check(text, stage)
        if verdict is None:
            continue
        if isinstance(verdict, Refusal):
            name = guardrail_name(guardrail)
            raise GuardrailRefused(
                f"Guardrail '{name}' refused the {_STAGE_WORDS[stage]}: {verdict.reason}",
                guardrail=name,
                stage=stage,
            )
        if not isinstance(verdict, str):
            raise TypeError(
                f"Guardrail {guardrail_name(guardrail)!r} returned {type(verdict).__name__}; "
                f"a check returns None, a str or a Refusal."
            )
        text = verdict
    return text


_STAGE_WORDS: dict[Stage, str] = {
    "input": "user message",
    "output": "answer",
    "tool_arguments": "tool call's arguments",
    "tool_result": "tool result",
}
