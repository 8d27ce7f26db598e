"""An existing FastAPI app (its own routes, its own API-key check) with an agent at /agent.

Run: python examples/fastapi_app.py   (prints the URL, the key and the playground link)
Try: curl -H "Authorization: Bearer demo-key" -d '{"input": "Where is order 1001?"}' \
          -H "Content-Type: application/json" http://127.0.0.1:8000/agent/invoke
"""

from __future__ import annotations

import hmac
import os
import sys
from http import HTTPStatus
from pathlib import Path

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

sys.path.insert(0, str(Path(__file__).parent))
from demo_shop import api_key, build_agent, get_order, welcome

from selectools.serving import ServingOptions, error_body
from selectools_fastapi import AgentRouter, offline_docs


def require_api_key(
    authorization: str | None = Header(default=None),
    x_api_key: str | None = Header(default=None),
    key: str | None = Query(default=None, include_in_schema=False),
) -> str:
    """The host app's own auth: Bearer (what OpenAI clients send), X-API-Key, or
    `?key=` (so a browser can open the playground link the demo prints)."""
    sent = x_api_key or (authorization or "").removeprefix("Bearer ").strip() or key or ""
    if not hmac.compare_digest(sent.encode(), api_key().encode()):
        raise HTTPException(401, "Send your key as 'Authorization: Bearer <key>' or 'X-API-Key'.")
    return "demo-user"


agent = build_agent()  # also what `selectools serve examples/fastapi_app.py:agent` serves
app = offline_docs(FastAPI(title="Acme Shop"))  # /docs and /redoc work without internet


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """The app's own errors (401, 404) in the same `{"error": {"type", "message"}}` shape."""
    kind = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    body = error_body(kind, str(exc.detail))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


@app.get("/")
def home() -> dict[str, str]:
    return {"app": "Acme Shop", "agent": "/agent", "docs": "/docs"}


@app.get("/orders/{order_id}", dependencies=[Depends(require_api_key)])
def read_order(order_id: int) -> dict[str, object]:
    try:
        return get_order(order_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


app.include_router(
    AgentRouter(agent, identity=require_api_key, options=ServingOptions(playground=True)),
    prefix="/agent",
    dependencies=[Depends(require_api_key)],
)

if __name__ == "__main__":
    import uvicorn

    port = int(os.environ.get("PORT", "8000"))
    print(welcome(f"http://127.0.0.1:{port}", docs=True), flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port)
