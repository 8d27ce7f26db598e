"""`selectools demo`: the shop demo (FastAPI or Flask) from a checkout of this repository."""

from __future__ import annotations

from pathlib import Path

import click

from ..extras import require
from .fail import failures
from .target import load

__all__ = ["EXAMPLES", "demo"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@click.command(
    short_help="Start the demo shop.",
    epilog=(
        "Then: curl -H 'Authorization: Bearer demo-key' -H 'Content-Type: application/json' "
        '-d \'{"input": "Where is order 1001?"}\' http://127.0.0.1:8000/agent/invoke'
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--flask", "use_flask", is_flag=True, help="The Flask version of the demo.")
def demo(host: str, port: int, use_flask: bool) -> None:
    """Start the demo shop with an agent at /agent (key: demo-key, or SELECTOOLS_API_KEY).

    Offline by default (a scripted demo model that still calls the tools); set
    OPENAI_API_KEY or OPENAI_BASE_URL (and SELECTOOLS_MODEL) for a real model. Its
    data lives in ./.demo-data (SELECTOOLS_DEMO_DIR to move it).
    """
    path = EXAMPLES / ("flask_app.py" if use_flask else "fastapi_app.py")
    if not path.is_file():
        raise click.ClickException(
            f"The demo ships with the repository, not the package ({path} is missing): "
            'clone it and run `pip install -e ".[demo]"` there.'
        )
    with failures():
        app = load(f"{path}:app")
        base = f"http://{host}:{port}"
        click.echo(f"Demo shop at {base} (agent: {base}/agent, OpenAI: {base}/agent/v1)")
        if use_flask:
            app.run(host=host, port=port, threaded=True)
            return
        uvicorn = require("uvicorn", extra="fastapi", feature="selectools demo")
        uvicorn.run(app, host=host, port=port)
