"""API docs that need no internet: Swagger UI 5 and ReDoc served from this package.

FastAPI's `/docs` and `/redoc` pages load their scripts from a CDN, so they
are blank offline or behind a strict firewall. `offline_docs(app)` replaces
both pages with ones whose scripts, styles and icon come from files shipped in
`selectools_fastapi/static/docs/` (swagger-ui-dist 5, which renders OpenAPI
3.1, and ReDoc's standalone bundle; see `VERSIONS` there).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS", "offline_docs"]

ASSETS = Path(__file__).parent / "static" / "docs"


def offline_docs(app: FastAPI, *, assets_path: str = "/_selectools/docs") -> FastAPI:
    """Serve `app.docs_url` and `app.redoc_url` with the shipped assets; returns `app`.

    Call it after creating the app (routes may come before or after). The
    pages honour `root_path`, so they work behind a proxy prefix. A URL the
    app switched off (`docs_url=None`) stays off.
    """
    if app.openapi_url is None:
        raise ValueError("offline_docs(app) needs the app's OpenAPI schema (openapi_url is None).")
    replaced = {url for url in (app.docs_url, app.redoc_url) if url}
    kept: list[BaseRoute] = [
        route
        for route in app.router.routes
        if not (isinstance(route, Route) and route.path in replaced)
    ]
    app.router.routes[:] = kept
    app.router.routes.insert(0, Mount(assets_path, StaticFiles(directory=ASSETS), name="docs"))
    openapi_url = app.openapi_url
    title = app.title

    if app.docs_url:

        async def swagger_ui(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "").rstrip("/")
            assets = root + assets_path
            return get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                swagger_css_url=f"{assets}/swagger-ui.css",
                swagger_favicon_url=f"{assets}/favicon-32x32.png",
                swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
            )

        app.add_api_route(app.docs_url, swagger_ui, include_in_schema=False)

    if app.redoc_url:

        async def redoc(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "").rstrip("/")
            assets = root + assets_path
            return get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{title} - ReDoc",
                redoc_js_url=f"{assets}/redoc.standalone.js",
                redoc_favicon_url=f"{assets}/favicon-32x32.png",
                with_google_fonts=False,
            )

        app.add_api_route(app.redoc_url, redoc, include_in_schema=False)
    return app
