"""An existing Flask app (its own routes, its own key check) with an agent at /agent.

Run: python examples/flask_app.py   (prints the URL, the key and the playground link;
     or: flask --app examples/flask_app.py run)
Try: curl -H "X-API-Key: demo-key" -H "Content-Type: application/json" \
          -d '{"input": "Where is order 1001?"}' http://127.0.0.1:5000/agent/invoke
"""

from __future__ import annotations

import hmac
import sys
from pathlib import Path

from flask import Flask, Response, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException

sys.path.insert(0, str(Path(__file__).parent))
from demo_shop import api_key, build_agent, get_order, welcome

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
        sent = (
            request.headers.get("X-API-Key")
            or request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            or request.args.get("key", "")  # so a browser can open the playground link
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
    def http_error(exc: HTTPException) -> tuple[Response, int]:
        """The app's own errors (401, 404) in the same `{"error": {"type", "message"}}` shape."""
        kind = (exc.name or "error").lower().replace(" ", "_")
        return jsonify(error_body(kind, exc.description or kind)), exc.code or 500

    app.config["SELECTOOLS_PLAYGROUND"] = True  # {prefix}/playground, behind the key check
    selectools.init_app(app)
    return app


app = create_app()

if __name__ == "__main__":
    import os

    port = int(os.environ.get("PORT", "5000"))
    print(welcome(f"http://127.0.0.1:{port}"), flush=True)
    app.run(host="127.0.0.1", port=port)
