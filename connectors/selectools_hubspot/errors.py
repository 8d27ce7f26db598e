"""HubSpot failures as messages the model can act on, mapped by HTTP status.

Each hubspot submodule has its own ApiException class with no common base, so
errors are recognised by their `status` attribute, not by one class.
"""

from __future__ import annotations

import json
from typing import Any

from selectools import SelectoolsError


class HubSpotToolError(SelectoolsError):
    """A HubSpot call failed; the message says why and what to do."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def is_api_exception(exc: BaseException) -> bool:
    """Any submodule's ApiException or its subclasses (ForbiddenException, ...)."""
    return hasattr(exc, "status") and any(
        cls.__name__ == "ApiException" for cls in type(exc).__mro__
    )


def retry_after(exc: Any) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    try:
        data = json.loads(body) if isinstance(body, str | bytes) else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        category = data.get("category")
        message = data.get("message") or ""
        return f"{message} ({category})" if category else str(message)
    return str(getattr(exc, "reason", "") or exc)


def translate(exc: BaseException, what: str) -> HubSpotToolError:
    """Turn an ApiException or a urllib3 connection error into a HubSpotToolError."""
    if not is_api_exception(exc):
        return HubSpotToolError(
            f"Could not reach HubSpot while trying to {what}: {type(exc).__name__}. "
            f"Try again later."
        )
    status = int(getattr(exc, "status", 0) or 0)
    detail = _detail(exc)
    messages = {
        401: "HubSpot rejected the access token (401). The app's token is invalid or expired.",
        403: f"HubSpot refused: the app lacks a scope to {what} (403). {detail}",
        404: f"Not found while trying to {what} (404). Check the id and object type.",
        409: f"Conflict while trying to {what} (409): {detail}. The record probably exists "
        f"already; search for it and update it instead.",
        429: f"HubSpot is rate limiting (429) and retries did not help; try again in "
        f"{retry_after(exc) or 10:g} s.",
    }
    if status in messages:
        message = messages[status]
    elif status >= 500:
        message = f"HubSpot failed with HTTP {status} while trying to {what}. Try again later."
    else:
        message = f"HubSpot rejected the request to {what} (HTTP {status}): {detail}"
    return HubSpotToolError(message, status=status, retry_after=retry_after(exc))
