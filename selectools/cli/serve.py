"""`selectools serve AGENT`: an agent (or your app) on a local web server."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from ..extras import require
from .apps import ENV_KEY, ENV_PLAYGROUND, ENV_PREFIX, ENV_TARGET, fastapi_app, flask_app
from .fail import failures
from .target import SPEC_SUFFIXES, is_asgi_app, is_wsgi_app, load

__all__ = ["serve"]


@click.command(
    short_help="Serve an agent (or your app) over HTTP.",
    epilog=(
        "Examples:\n\n"
        "  selectools serve examples/fastapi_app.py:agent\n\n"
        "  selectools serve shop.agents:support --port 9000 --prefix /agent\n\n"
        "  selectools serve examples/flask_app.py:app     (your Flask app, as it is)\n\n"
        "Then any OpenAI client can talk to it: base_url=http://127.0.0.1:8000/v1"
    ),
)
@click.argument("agent", metavar="AGENT")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--prefix", default="", help="Mount the agent's routes under this path.")
@click.option("--flask", "use_flask", is_flag=True, help="Serve with Flask instead of FastAPI.")
@click.option("--reload", is_flag=True, help="Restart when Python files change (development).")
@click.option(
    "--playground/--no-playground",
    default=True,
    show_default=True,
    help="Serve the chat page at PREFIX/playground.",
)
@click.option(
    "--api-key",
    envvar=ENV_KEY,
    default=None,
    help=f"Require this bearer key on every route (or set {ENV_KEY}).",
)
def serve(
    agent: str,
    host: str,
    port: int,
    prefix: str,
    use_flask: bool,
    reload: bool,
    playground: bool,
    api_key: str | None,
) -> None:
    """Serve AGENT over HTTP: /invoke, /stream, /batch, /tools, sessions and the
    OpenAI-compatible /v1/chat/completions.

    AGENT is 'module:name' or 'path/to/file.py:name' naming an Agent (or a function
    returning one), an agent spec file, or a FastAPI/Flask app, served as it is.
    """
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    with failures():
        if reload and not use_flask:
            os.environ[ENV_PLAYGROUND] = "1" if playground else ""
            _serve_reloading(agent, host, port, prefix, api_key)
            return
        found = load(agent)
        if use_flask or is_wsgi_app(found):
            app = flask_app(found, prefix=prefix, api_key=api_key, playground=playground)
            _announce(agent, host, port, prefix, api_key, app_given=is_wsgi_app(found))
            app.run(host=host, port=port, threaded=True, use_reloader=reload)
            return
        app = fastapi_app(found, prefix=prefix, api_key=api_key, playground=playground)
        uvicorn = require("uvicorn", extra="fastapi", feature="selectools serve")
        _announce(agent, host, port, prefix, api_key, app_given=is_asgi_app(found))
        uvicorn.run(app, host=host, port=port)


def _serve_reloading(agent: str, host: str, port: int, prefix: str, key: str | None) -> None:
    uvicorn = require("uvicorn", extra="fastapi", feature="selectools serve --reload")
    load(agent)  # fail here, with a clear message, rather than in the reloader's child
    os.environ[ENV_TARGET] = agent
    os.environ[ENV_PREFIX] = prefix
    if key:
        os.environ[ENV_KEY] = key
    source = agent.rpartition(":")[0] if ":" in agent else agent
    folder = Path(source).parent if source.endswith((".py", *SPEC_SUFFIXES)) else Path.cwd()
    _announce(agent, host, port, prefix, key, app_given=False)
    uvicorn.run(
        "selectools.cli.apps:reload_app",
        factory=True,
        host=host,
        port=port,
        reload=True,
        reload_dirs=[str(folder.resolve())],
    )


def _announce(
    agent: str, host: str, port: int, prefix: str, key: str | None, *, app_given: bool
) -> None:
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    if app_given:
        click.echo(f"Serving the app {agent} at {base}")
        return
    click.echo(f"Serving {agent} at {base}{prefix}")
    click.echo(f"  POST {prefix}/invoke, {prefix}/stream, {prefix}/batch; GET {prefix}/tools")
    click.echo(f"  OpenAI-compatible: base_url={base}{prefix}/v1")
    click.echo(f"  Playground: {base}{prefix}/playground")
    if key is None and not _is_loopback(host):
        click.echo(
            f"  Warning: {host} is reachable from other machines and no --api-key is set.",
            err=True,
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
