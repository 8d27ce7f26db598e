"""Any exception to one HTTP answer `(status, body, headers)`, decided by the exception itself.

Every `SelectoolsError` carries its `http_status`, `error_type` and
`http_headers`; bad requests are `InvalidRequestError` (422, naming each
field) or `RequestTooLargeError` (413); a pydantic `ValidationError` becomes
an `InvalidRequestError`. Anything else is a fault of ours: logged with its
traceback, answered 500 with a message that reveals nothing.

Adapters call `error_answer` only for these types. The host app's own HTTP
exceptions (Starlette's or Werkzeug's `HTTPException`, its auth errors) are
never caught here: they reach the host's handlers untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from ..errors import SelectoolsError
from ..events import RunFailed
from .wire import ErrorDetail, ErrorResponse

__all__ = [
    "InvalidRequestError",
    "RequestTooLargeError",
    "UnsupportedRequestError",
    "error_answer",
    "error_body",
    "log_unexpected",
]

logger = logging.getLogger("selectools.serving")


class RequestTooLargeError(SelectoolsError):
    """The body, the input or the batch is over the configured limit (HTTP 413)."""

    default_status = 413

    @property
    def error_type(self) -> str:
        return "request_too_large"


class UnsupportedRequestError(SelectoolsError, ValueError):
    """A well-formed request asks for something this server does not do (HTTP 400
    `unsupported`), such as client-side tools on the OpenAI-compatible endpoint:
    refused rather than silently ignored."""

    default_status = 400

    @property
    def error_type(self) -> str:
        return "unsupported"


class InvalidRequestError(SelectoolsError, ValueError):
    """The request does not fit the wire format (HTTP 422); `fields` names each problem."""

    default_status = 422

    def __init__(self, message: str, fields: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.fields = [dict(f) for f in fields]

    @property
    def error_type(self) -> str:
        return "invalid_request"

    @classmethod
    def from_errors(
        cls, errors: Iterable[Mapping[str, Any]], *, prefix: tuple[str, ...] = ()
    ) -> InvalidRequestError:
        """From pydantic-style error dicts (`loc`, `msg`, `ctx`); `prefix` is where they sit
        (`("body",)` for a parsed body, `("path", "session_id")` for a path parameter)."""
        fields = []
        for item in errors:
            loc = [*prefix, *(str(part) for part in item.get("loc", ()))]
            message = str(item.get("msg", ""))
            context = item.get("ctx") or {}
            if item.get("type") == "json_invalid":
                loc = [loc[0]] if loc else ["body"]  # a byte offset is no field
                message = f"The body is not valid JSON ({context.get('error', message)})"
            fields.append({"loc": loc, "message": message})
        summary = "; ".join(f"{_where(f['loc'])}: {f['message']}" for f in fields)
        return cls(f"The request is invalid: {summary}. Fix these fields and retry.", fields)


def _where(loc: Sequence[str]) -> str:
    """`body.input.0.role`, `header x-api-key`, `path session_id`: what a client can find."""
    if not loc:
        return "request"
    if loc[0] in ("header", "query", "path", "cookie"):
        return f"{loc[0]} {'.'.join(loc[1:])}".strip()
    return ".".join(loc)


def error_body(
    kind: str, message: str, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The documented error shape: `{"error": {"type", "message"[, "fields"]}}`."""
    detail = ErrorDetail(type=kind, message=message, fields=fields)  # type: ignore[arg-type]
    return ErrorResponse(error=detail).model_dump()


def error_answer(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and headers for `exc`; unknown exceptions are logged and reveal nothing."""
    if isinstance(exc, ValidationError):
        exc = InvalidRequestError.from_errors(exc.errors(include_url=False), prefix=("body",))
    if isinstance(exc, InvalidRequestError):
        return exc.http_status, error_body(exc.error_type, str(exc), exc.fields), {}
    log_unexpected(exc)
    failed = RunFailed.from_exception("", exc)
    headers = exc.http_headers if isinstance(exc, SelectoolsError) else {}
    return failed.status, error_body(failed.error_type, failed.message), headers


def log_unexpected(exc: BaseException) -> None:
    """Our own errors are answers; anything else is a bug to find in the server log."""
    if not isinstance(exc, SelectoolsError):
        logger.error("agent request failed", exc_info=exc)
