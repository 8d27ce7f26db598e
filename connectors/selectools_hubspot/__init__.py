"""HubSpot CRM as agent tools, on the official hubspot-api-client: read by default."""

from __future__ import annotations

from selectools.extras import require

require("hubspot", extra="hubspot", feature="selectools_hubspot")

from .errors import HubSpotToolError  # noqa: E402
from .toolkit import HubSpotToolkit, PropertyFilter  # noqa: E402

__all__ = ["HubSpotToolError", "HubSpotToolkit", "PropertyFilter"]
