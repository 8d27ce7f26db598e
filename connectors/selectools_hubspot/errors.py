"""HubSpot failures as messages the model can act on, mapped by HTTP status.

Each hubspot submodule has its own ApiException class with no common base, so
errors are recognised by their `status` attribute, not by one class. HubSpot's
own error text is logged, never handed to the model.
"""

from __future__ import annotations

import json
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from selectools.tools.toolkit import RefusedError, ToolkitError, UpstreamError

__all__ = [
    "HubSpotBadResponseError",
    "HubSpotRateLimitError",
    "HubSpotRefusedError",
    "HubSpotToolError",
    "HubSpotUpstreamError",
]

logger = logging.getLogger("selectools_hubspot")


class HubSpotToolError(ToolkitError):
    """Any failure of a HubSpot tool (catch this one to catch them all)."""


class HubSpotRefusedError(HubSpotToolError, RefusedError):
    """Outside what the toolkit allows: an object type, a write on a read-only toolkit."""


class HubSpotUpstreamError(HubSpotToolError, UpstreamError):
    """HubSpot failed or refused the call; `status` is its HTTP status when there was one."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status


class HubSpotRateLimitError(HubSpotUpstreamError):
    """HubSpot keeps answering 429 within the toolkit's retry bounds; `retry_after` says when."""


class HubSpotBadResponseError(HubSpotUpstreamError):
    """HubSpot answered success with a body that is not a JSON object (a proxy page, say)."""


def is_api_exception(exc: BaseException) -> bool:
    """Any submodule's ApiException or its subclasses (ForbiddenException, ...)."""
    return hasattr(exc, "status") and any(
        cls.__name__ == "ApiException" for cls in type(exc).__mro__
    )


def retry_after(exc: Any) -> float | None:
    """The Retry-After header in seconds (a number or an HTTP date), when present."""
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        return max(0.0, parsedate_to_datetime(str(value)).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _detail(exc: Any) -> str:
    """HubSpot's validation message (about the model's own input), clipped."""
    body = getattr(exc, "body", None)
    try:
        data = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return "no details"
    category, message = data.get("category"), str(data.get("message") or "")[:300]
    return f"{message} ({category})" if category else message


def rate_limited(what: str, wait: float) -> HubSpotRateLimitError:
    return HubSpotRateLimitError(
        f"HubSpot is rate limiting this app (429) while trying to {what}; "
        f"try again in {wait:.0f} s.",
        status=429,
        retry_after=wait,
    )


def translate(exc: BaseException, what: str) -> HubSpotUpstreamError:
    """Turn an ApiException or a urllib3 connection error into a HubSpotUpstreamError."""
    if not is_api_exception(exc):
        logger.warning("HubSpot unreachable while trying to %s: %r", what, exc)
        return HubSpotUpstreamError(
            f"Could not reach HubSpot while trying to {what}: {type(exc).__name__}. "
            f"Try again later."
        )
    status = int(getattr(exc, "status", 0) or 0)
    logger.info("HubSpot answered %s to %s: %s", status, what, getattr(exc, "body", ""))
    messages = {
        401: "HubSpot rejected the access token (401). The app's token is invalid or expired.",
        403: f"HubSpot refused: the app lacks a scope to {what} (403).",
        404: f"Not found while trying to {what} (404). Check the id and object type.",
        409: f"Conflict while trying to {what} (409): {_detail(exc)}. The record probably "
        f"exists already; search for it and update it instead.",
    }
    if status == 429:
        return rate_limited(what, retry_after(exc) or 10.0)
    if status in messages:
        message = messages[status]
    elif status >= 500:
        message = f"HubSpot failed with HTTP {status} while trying to {what}. Try again later."
    else:
        message = f"HubSpot rejected the request to {what} (HTTP {status}): {_detail(exc)}"
    return HubSpotUpstreamError(message, status=status)
