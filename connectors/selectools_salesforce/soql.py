"""Check SOQL the model wrote before it is sent: one SELECT, from an allowed object.

SOQL cannot write, so the checks are about scope: one statement, a SELECT,
and the top-level FROM object on the allowlist. Quoted strings and
parenthesised subqueries are skipped while looking for that FROM.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from selectools import SelectoolsError

_TOKEN = re.compile(r"'(?:\\.|[^'\\])*'|\(|\)|;|[A-Za-z_][\w.]*|\S")


class SOQLRefusedError(SelectoolsError):
    """The SOQL is not a single SELECT on an allowed object."""


def check_soql(soql: str, allowed_objects: Collection[str]) -> str:
    """Return the object the query reads, or raise SOQLRefusedError saying what to fix."""
    tokens = _TOKEN.findall(soql.strip())
    if not tokens or tokens[0].upper() != "SELECT":
        raise SOQLRefusedError("Send one SOQL SELECT query, e.g. SELECT Id, Name FROM Account.")
    if ";" in tokens:
        raise SOQLRefusedError("Send exactly one SOQL query, without ';'.")
    depth = 0
    for index, token in enumerate(tokens):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and token.upper() == "FROM" and index + 1 < len(tokens):
            target = tokens[index + 1]
            allowed = {o.lower(): o for o in allowed_objects}
            if target.lower() not in allowed:
                raise SOQLRefusedError(
                    f"Object '{target}' is not available. Query one of: "
                    f"{', '.join(sorted(allowed.values()))}."
                )
            return allowed[target.lower()]
    raise SOQLRefusedError("The query has no FROM clause. Add FROM <Object>.")
