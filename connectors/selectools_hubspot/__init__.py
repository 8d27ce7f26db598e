"""HubSpot CRM as agent tools, on the official hubspot-api-client: read by default."""

from __future__ import annotations

from selectools.extras import require

require("hubspot", extra="hubspot", feature="selectools_hubspot")

from .errors import (  # noqa: E402
    HubSpotBadResponseError,
    HubSpotRateLimitError,
    HubSpotRefusedError,
    HubSpotToolError,
    HubSpotUpstreamError,
)
from .toolkit import HubSpotToolkit, PropertyFilter  # noqa: E402

__all__ = [
    "HubSpotBadResponseError",
    "HubSpotRateLimitError",
    "HubSpotRefusedError",
    "HubSpotToolError",
    "HubSpotToolkit",
    "HubSpotUpstreamError",
    "PropertyFilter",
]
