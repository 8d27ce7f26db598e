"""The web pages both adapters serve (playground, builder): HTML, CSS and JS defined once.

Each page is one self-contained HTML answer (styles and script inlined from
`static/`), so it works behind any auth the host puts on the agent's routes
(a cookie, or a key the page got in its URL) and needs no CDN or build step.
A fresh nonce per answer feeds a strict Content-Security-Policy: only the
page's own script runs, so text that slips into the DOM cannot execute.
The page finds the agent's routes relative to its own URL, under any prefix.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import field
from importlib import resources
from typing import Literal

from ..frozen import record

__all__ = ["PAGES", "Page", "page"]

PageName = Literal["playground", "builder"]
PAGES: tuple[PageName, ...] = ("playground", "builder")


@record
class Page:
    """An HTML answer: always 200, `text/html`, with its security headers."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "text/html; charset=utf-8"


@functools.cache
def _asset(name: str) -> str:
    return (resources.files(__package__) / "static" / name).read_text(encoding="utf-8")


def page(name: PageName) -> Page:
    """The page `name` with its CSS and JS inlined under a fresh CSP nonce."""
    nonce = secrets.token_urlsafe(16)
    html = (
        _asset(f"{name}.html")
        .replace("{{style}}", f'<style nonce="{nonce}">{_asset("web.css")}</style>')
        .replace(
            "{{script}}",
            f'<script nonce="{nonce}">{_asset("web.js")}\n{_asset(f"{name}.js")}</script>',
        )
    )
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )
    headers = {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return Page(html.encode(), headers)
