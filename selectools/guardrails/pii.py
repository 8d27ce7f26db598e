"""PII redaction: emails, phone numbers, card numbers (Luhn) and IBANs (mod 97), either direction.

Digits alone are not PII: a 16-digit order number that fails the Luhn check
and an IBAN-shaped string whose check digits are wrong stay as they are, so
redaction does not eat invoices and tracking codes. Phone numbers are
matched in international form (`+` then 8 to 15 digits) or the common
national shapes (`(555) 123-4567`, `555-123-4567`, `030 1234 5678`); bare
digit runs are not treated as phones. Each find is replaced by a
placeholder such as `[email redacted]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from .base import ALL_STAGES, Check, Stage, stages_of

__all__ = ["RedactPII", "iban_valid", "luhn_valid"]

KINDS = ("iban", "card", "email", "phone")

_DIGIT = re.compile(r"\d")
# Parts bounded (RFC 5321 sizes), so a hostile run like "a.a.a.a...@" is scanned in linear time.
_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
)
# 13 to 19 digits, single spaces or hyphens between groups allowed.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# Country code, check digits, then 11 to 30 capitals/digits, compact or in groups of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)\b")
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d[ .-])(?:"
    r"\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}"  # +49 30 1234 5678, +1 (555) 123-4567
    r"|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}"  # (555) 123-4567
    r"|\d{3}[.-]\d{3}[.-]\d{4}"  # 555-123-4567
    r"|0\d{2,4}[ /-]\d{3,4}[ -]?\d{3,5}"  # 030 1234 5678, 0171/1234567
    r")(?![ .-]?\d)(?!\w)"
)


def luhn_valid(number: str) -> bool:
    """True if the digits in `number` (13 to 19 of them) pass the Luhn checksum."""
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def iban_valid(text: str) -> bool:
    """True if `text` (spaces allowed) is an IBAN whose check digits hold (ISO 13616 mod 97)."""
    iban = text.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    if not iban.isalnum() or not iban.isascii():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def _phone_digits_ok(found: str) -> bool:
    digits = sum(c.isdigit() for c in found)
    return 8 <= digits <= 15


class RedactPII:
    """Replace emails, phone numbers, valid card numbers and valid IBANs with placeholders.

    Args:
        kinds: which to redact, any of "iban", "card", "email", "phone" (default: all).
        stages: where to check (default: every stage: user input, answers, tool
            arguments and tool results). Leave out "tool_arguments" when a tool
            legitimately needs an address the model was given.
        placeholder: the replacement, formatted with `kind` ("[{kind} redacted]").
    """

    name = "redact_pii"

    def __init__(
        self,
        kinds: Iterable[str] = KINDS,
        *,
        stages: Iterable[Stage] | None = None,
        placeholder: str = "[{kind} redacted]",
    ) -> None:
        chosen = tuple(kinds)
        unknown = sorted(set(chosen) - set(KINDS))
        if unknown:
            raise ValueError(f"Unknown PII kind(s) {unknown}; choose from {list(KINDS)}.")
        self.kinds = tuple(k for k in KINDS if k in chosen)  # IBANs and cards before phones
        self.stages = stages_of(stages, ALL_STAGES)
        self.placeholder = placeholder

    def check(self, text: str, stage: Stage) -> Check:
        redacted = self.redact(text)
        return redacted if redacted != text else None

    def redact(self, text: str) -> str:
        if _DIGIT.search(text) is None and "@" not in text:
            return text  # nothing any kind could match: the common case, kept cheap
        for kind in self.kinds:
            if kind == "email" and "@" not in text:
                continue
            pattern, valid = _FINDERS[kind]
            mark = self.placeholder.format(kind=kind)
            text = pattern.sub(lambda m, v=valid, r=mark: r if v(m.group()) else m.group(), text)  # type: ignore[misc]
        return text


_FINDERS: dict[str, tuple[re.Pattern[str], Callable[[str], bool]]] = {
    "iban": (_IBAN, iban_valid),
    "card": (_CARD, luhn_valid),
    "email": (_EMAIL, lambda _: True),
    "phone": (_PHONE, _phone_digits_ok),
}
