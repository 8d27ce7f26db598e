"""Text that always encodes: lone UTF-16 surrogates replaced or refused.

A model can send `"\\ud800"` (a JSON escape of half a surrogate pair, what a
reply cut mid-emoji or a prompt-injected model produces). Python keeps it in a
`str`, and everything downstream that encodes text then fails: the HTTP
answer, the session store, the audit log. Text from a model is made well
formed where it enters a run; tool arguments that decode to a lone surrogate
are refused, so a tool never writes broken text; and JSON answers fall back
to escaping what still slipped through.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "decodes_to_lone_surrogate",
    "dumps_json",
    "has_lone_surrogate",
    "storable",
    "well_formed",
]

_LONE = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # a surrogate's JSON escape


def well_formed(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (`text` itself when it has none)."""
    if text.isascii():  # the common case, at C speed
        return text
    return _LONE.sub("\ufffd", text)


def storable(text: str) -> str:
    """`well_formed`, and NUL (which PostgreSQL refuses in text) as U+FFFD too: what a
    log that must not lose a record writes."""
    return well_formed(text).replace("\x00", "\ufffd")


def has_lone_surrogate(text: str) -> bool:
    return not text.isascii() and _LONE.search(text) is not None


def decodes_to_lone_surrogate(raw: str) -> bool:
    """True when this JSON text holds a string with a lone surrogate once decoded
    (an escaped pair is one character and fine)."""
    if raw.isascii() and "\\u" not in raw:  # the common case, at C speed
        return False
    if _ESCAPED.search(raw) is None:
        return has_lone_surrogate(raw)
    try:
        decoded = json.loads(raw)
    except ValueError:
        return False  # not JSON: the parser says so on its own
    return has_lone_surrogate(json.dumps(decoded, ensure_ascii=False))


def dumps_json(data: Any) -> bytes:
    """JSON bytes for data that may hold lone surrogates (escaped, as JSON allows)."""
    return json.dumps(data, ensure_ascii=True, default=str).encode()
