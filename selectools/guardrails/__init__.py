"""Guardrails: checks on user input, answers, tool arguments and tool results.

    from selectools.guardrails import Guardrails, RedactPII, MaxLength, DenyPatterns
    agent = Agent(tools, provider, policies=[Guardrails(RedactPII(), MaxLength(4000))])

- `base`: the `Guardrail` protocol (`stages`, `check(text, stage)` returning
  None, a replacement text or a `Refusal`) and `apply`.
- `pii`: `RedactPII` (emails, phones, Luhn-valid cards, mod-97-valid IBANs).
- `limits`: `MaxLength`, `DenyPatterns`.
- `injection`: `InjectionMarkers` quotes tool results that carry prompt-injection markers.
- `segments`: how a streamed answer is cut into sentences and lines before checking.
- `policy`: `Guardrails`, the policy running them around the model and every tool call.

A refusal raises `selectools.GuardrailRefused` (HTTP 422 `guardrail_refused`).
"""

from __future__ import annotations

from ..errors import GuardrailRefused
from .base import ALL_STAGES, Check, Guardrail, Refusal, Stage, apply
from .injection import DEFAULT_MARKERS, InjectionMarkers, quote_as_data
from .limits import DenyPatterns, MaxLength
from .pii import RedactPII, iban_valid, luhn_valid
from .policy import GuardedProvider, Guardrails
from .segments import Segmenter

__all__ = [
    "ALL_STAGES",
    "DEFAULT_MARKERS",
    "Check",
    "DenyPatterns",
    "GuardedProvider",
    "Guardrail",
    "GuardrailRefused",
    "Guardrails",
    "InjectionMarkers",
    "MaxLength",
    "RedactPII",
    "Refusal",
    "Segmenter",
    "Stage",
    "apply",
    "iban_valid",
    "luhn_valid",
    "quote_as_data",
]
