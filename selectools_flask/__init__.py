"""Drop a selectools agent into an existing Flask app: `Selectools(app, agent=agent)`."""

from __future__ import annotations

from selectools.extras import require

require("flask", extra="flask", feature="selectools_flask")

from selectools.serving import ServingOptions  # noqa: E402

from .extension import Selectools  # noqa: E402

__all__ = ["Selectools", "ServingOptions"]
