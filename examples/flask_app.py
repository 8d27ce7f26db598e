"""An existing Flask app (its own routes, its own key check) with an agent at /agent.

Run: flask --app examples/flask_app.py run
Try: curl -H "X-API-Key: demo-key" -H "Content-Type: application/json" \
          -d '{"input": "Where is order 1001?"}' http://127.0.0.1:5000/agent/invoke
"""

from __future__ import annotations

import hmac
import sys
from pathlib import Path

from flask import Flask, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException

sys.path.insert(0, str(Path(__file__).parent))
from demo_shop import api_key, build_agent, get_order

from selectools.serving import error_body
from selectools_flask import Selectools

agent = build_agent()  # also what `selectools serve examples/flask_app.py:agent` serves
selectools = Selectools(agent=agent, identity=lambda: g.user)


def create_app() -> Flask:
    app = Flask("acme_shop")

    @app.before_request
    def require_api_key() -> None:
        """The host app's own auth: Bearer (what OpenAI clients send) or X-API-Key."""
        if request.path == "/":
            return
        sent = request.headers.get("X-API-Key") or (
            request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        )
        if not hmac.compare_digest(sent.encode(), api_key().encode()):
            abort(401, "Send your key as 'Authorization: Bearer <key>' or 'X-API-Key'.")
        g.user = "demo-user"

    @app.get("/")
    def home() -> dict[str, str]:
        return {"app": "Acme Shop", "agent": "/agent"}

    @app.get("/orders/<int:order_id>")
    def read_order(order_id: int) -> dict[str, object]:
        try:
            return get_order(order_id)
        except LookupError as exc:
            abort(404, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[object, int]:
        """The app's own errors (401, 404) in the same `{"error": {"type", "message"}}` shape."""
        kind = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(kind, exc.description or kind)), exc.code or 500

    selectools.init_app(app)
    return app


app = create_app()
