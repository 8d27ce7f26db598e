"""A web page as readable text: fetched under `fetch.py`'s rules, parsed with a real HTML parser.

Scripts, styles and other non-content elements are dropped; block elements
become line breaks; the title and (a capped list of) links come with the text.
Parsing uses BeautifulSoup over Python's `html.parser`, which copes with the
broken HTML of the real web; no page code ever runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

from ..extras import require
from ..tools.tool import Tool, method_tool
from ..tools.toolkit import RefusedError, Toolkit
from .fetch import GuardedFetcher

__all__ = ["WebToolkit", "html_to_text"]

_DROPPED = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head")
_BLOCKS = (
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
    "header", "footer", "nav", "aside", "main", "blockquote", "pre", "table", "ul", "ol", "dl",
    "dt", "dd", "figure", "figcaption", "hr", "form", "address",
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(html: str, base_url: str = "", max_links: int = 50) -> dict[str, Any]:
    """Title, readable text and links of an HTML document."""
    bs4 = require("bs4", extra="toolbox", feature="read_web_page")
    soup = bs4.BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    links: list[dict[str, str]] = []
    for anchor in soup.find_all("a", href=True):
        if len(links) == max_links:
            break
        href = str(anchor["href"]).strip()
        if href.startswith(("javascript:", "data:", "#", "mailto:")):
            continue
        links.append(
            {"text": anchor.get_text(" ", strip=True)[:100], "url": urljoin(base_url, href)}
        )
    for element in soup.find_all(_DROPPED):
        element.decompose()
    for element in soup.find_all(_BLOCKS):
        element.insert_before("\n")
        element.insert_after("\n")
    lines = (_SPACES.sub(" ", line).strip() for line in soup.get_text().splitlines())
    text = _BLANK_LINES.sub("\n", "\n".join(lines)).strip()
    return {"title": title, "text": text, "links": links}


class WebToolkit(Toolkit):
    """`read_web_page` for listed hosts: the page's title, text and links, capped.

    Args:
        allow_hosts: hosts the model may read, e.g. ["docs.python.org", "*.example.com"].
        max_chars: most characters of text returned (the model is told when it was cut).
        max_bytes: most bytes of HTML downloaded.
        timeout, schemes, max_redirects, headers, allow_private_addresses: as for `HttpToolkit`.
        name_prefix: put before the tool name.
    """

    name = "web"

    def __init__(
        self,
        allow_hosts: Iterable[str],
        *,
        max_chars: int = 20_000,
        max_bytes: int = 2_000_000,
        timeout: float = 10.0,
        schemes: Iterable[str] = ("https",),
        max_redirects: int = 3,
        headers: Mapping[str, str] | None = None,
        allow_private_addresses: bool = False,
        name_prefix: str = "",
    ) -> None:
        self.fetcher = GuardedFetcher(
            allow_hosts,
            schemes=schemes,
            max_bytes=max_bytes,
            timeout=timeout,
            max_redirects=max_redirects,
            headers=headers,
            allow_private_addresses=allow_private_addresses,
        )
        self.max_chars = max_chars
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        return [method_tool(self.read_web_page, prefix=self.name_prefix)]

    def close(self) -> None:
        self.fetcher.close()

    def read_web_page(self, url: str) -> dict[str, Any]:
        """Read a web page as plain text, with its title and links.

        Args:
            url: the page's full URL; only some hosts are allowed.
        """
        fetched = self.fetcher.fetch(url)
        kind = fetched.content_type.lower()
        if fetched.status >= 400:
            return {"url": fetched.url, "status": fetched.status, "text": "", "links": []}
        if "html" not in kind and not kind.startswith("text/"):
            raise RefusedError(
                f"{url} is not a web page (its content type is {kind or 'unknown'})."
            )
        page = (
            html_to_text(fetched.text(), fetched.url)
            if "html" in kind
            else {
                "title": "",
                "text": fetched.text(),
                "links": [],
            }
        )
        answer: dict[str, Any] = {"url": fetched.url, "status": fetched.status, **page}
        if len(page["text"]) > self.max_chars:
            answer["text"] = page["text"][: self.max_chars]
            answer["truncated"] = f"The text was cut at {self.max_chars} characters."
        elif fetched.truncated:
            answer["truncated"] = f"The page was cut at {self.fetcher.max_bytes} bytes."
        return answer
