"""Query JSON with JMESPath: pick, filter and reshape a document instead of reading all of it."""

from __future__ import annotations

import json
from typing import Any

from ..extras import require
from ..tools.tool import tool
from ..tools.toolkit import RefusedError, ToolkitError

__all__ = ["json_query"]

MAX_DOCUMENT_CHARS = 1_000_000
MAX_EXPRESSION_CHARS = 500
MAX_RESULT_CHARS = 20_000


@tool
def json_query(document: str, expression: str) -> Any:
    """Run a JMESPath expression over a JSON document, e.g. "orders[?total > `100`].id".

    Args:
        document: the JSON text to query.
        expression: a JMESPath expression (https://jmespath.org).
    """
    jmespath = require("jmespath", extra="toolbox", feature="json_query")
    if len(document) > MAX_DOCUMENT_CHARS:
        raise RefusedError(
            f"The document is {len(document)} characters; the limit is {MAX_DOCUMENT_CHARS}."
        )
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise RefusedError(f"The expression is over {MAX_EXPRESSION_CHARS} characters.")
    try:
        data = json.loads(document)
    except json.JSONDecodeError as exc:
        raise ToolkitError(
            f"The document is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        ) from None
    try:
        compiled = jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        raise ToolkitError(f"Invalid JMESPath expression {expression!r}: {exc}") from None
    try:
        result = compiled.search(data)
    except jmespath.exceptions.JMESPathError as exc:
        raise ToolkitError(f"The expression failed on this document: {exc}") from None
    text = json.dumps(result, ensure_ascii=False)
    if len(text) > MAX_RESULT_CHARS:
        raise RefusedError(
            f"The result is {len(text)} characters; the limit is {MAX_RESULT_CHARS}. "
            f"Select fewer fields or filter further (e.g. add [:10])."
        )
    return result
