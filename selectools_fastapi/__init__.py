"""Mount a selectools agent in an existing FastAPI app: `app.include_router(AgentRouter(agent))`."""

from __future__ import annotations

from selectools.extras import require

require("fastapi", extra="fastapi", feature="selectools_fastapi")

from selectools.serving import ServingOptions  # noqa: E402

from .docs import offline_docs  # noqa: E402
from .router import AgentRouter  # noqa: E402

__all__ = ["AgentRouter", "ServingOptions", "offline_docs"]
