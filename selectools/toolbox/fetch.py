"""HTTP GET for the model, only to hosts you list, with size and time caps (httpx).

- **Hosts**: every URL, and every redirect hop, must name a host on the
  allowlist (`"api.example.com"`, `"*.example.com"`, `"127.0.0.1:8080"`);
  user-info tricks (`https://allowed@evil.com`) are parsed, not matched as text.
  A listed host name that resolves to a private, loopback or link-local
  address is refused unless `allow_private_addresses=True` (an IP address
  listed as such is allowed as written).
- **Schemes**: https only by default.
- **Size**: the body is streamed and cut at `max_bytes`; compressed bodies are
  inflated with the same cap, so a small gzip bomb cannot expand in memory.
- **Time**: `timeout` bounds the whole request, a slow drip of bytes included.
- Redirects are followed by hand, at most `max_redirects`, each checked again.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..extras import require
from ..tools.tool import Tool, method_tool
from ..tools.toolkit import RefusedError, Toolkit, ToolkitError, UpstreamError

__all__ = ["FetchedResponse", "GuardedFetcher", "HostAllowlist", "HttpToolkit"]

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_MARKERS = ("+json", "+xml", "yaml", "csv")


class HostAllowlist:
    """Hosts (optionally with a port) a fetcher may reach; `*.` allows subdomains."""

    def __init__(self, hosts: Iterable[str]) -> None:
        self.entries: list[tuple[str, int | None]] = [_host_and_port(raw) for raw in hosts]
        if not self.entries:
            raise ValueError("The host allowlist is empty: list the hosts the model may fetch.")

    def allows(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        for allowed, allowed_port in self.entries:
            if allowed_port is not None and allowed_port != port:
                continue
            if allowed_port is None and port not in (80, 443):
                continue
            if allowed == host or (allowed.startswith("*.") and host.endswith(allowed[1:])):
                return True
        return False

    def names_literal_address(self, host: str) -> bool:
        return any(allowed == host.lower() and _is_ip(allowed) for allowed, _ in self.entries)

    def __str__(self) -> str:
        return ", ".join(f"{h}:{p}" if p else h for h, p in self.entries)


def _host_and_port(raw: str) -> tuple[str, int | None]:
    """'example.com', 'example.com:8443', '127.0.0.1:8080', '[::1]:8080' -> (host, port)."""
    text = raw.strip().lower()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port)
    return text, None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class FetchedResponse:
    """What came back: the final URL, status, content type and the (capped) body."""

    url: str
    status: int
    content_type: str
    body: bytes
    truncated: bool
    charset: str | None = None

    @property
    def is_text(self) -> bool:
        kind = self.content_type.lower()
        return kind.startswith(_TEXT_TYPES) or any(m in kind for m in _TEXT_MARKERS)

    def text(self) -> str:
        return self.body.decode(self.charset or "utf-8", "replace")


class GuardedFetcher:
    """GET with the allowlist, scheme, size, time and redirect rules of this module."""

    def __init__(
        self,
        allow_hosts: Iterable[str],
        *,
        schemes: Iterable[str] = ("https",),
        max_bytes: int = 200_000,
        timeout: float = 10.0,
        max_redirects: int = 3,
        headers: Mapping[str, str] | None = None,
        allow_private_addresses: bool = False,
    ) -> None:
        self.allowlist = HostAllowlist(allow_hosts)
        self.schemes = tuple(s.lower() for s in schemes)
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.allow_private_addresses = allow_private_addresses
        httpx = require("httpx", extra="toolbox", feature="HTTP tools")
        self._httpx = httpx
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"Accept-Encoding": "gzip, deflate", **dict(headers or {})},
            trust_env=False,  # proxies from the environment would bypass the allowlist check
        )

    def close(self) -> None:
        self._client.close()

    def fetch(self, url: str) -> FetchedResponse:
        """GET `url`; RefusedError for what the rules forbid, UpstreamError when it fails."""
        deadline = time.monotonic() + self.timeout
        current = self._checked(url)
        for _ in range(self.max_redirects + 1):
            try:
                with self._client.stream("GET", current) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        current = self._checked(str(response.url.join(location)))
                        continue
                    return self._read(response, deadline)
            except self._httpx.TimeoutException:
                raise UpstreamError(
                    f"{current} did not answer within {self.timeout:g} s."
                ) from None
            except self._httpx.HTTPError as exc:
                raise UpstreamError(f"Could not fetch {current}: {type(exc).__name__}.") from None
        raise RefusedError(f"More than {self.max_redirects} redirects; stopped at {current}.")

    def _checked(self, url: str) -> Any:
        httpx = self._httpx
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise ToolkitError(f"{url!r} is not a valid URL.") from None
        if parsed.scheme not in self.schemes:
            raise RefusedError(f"{url!r}: only {', '.join(self.schemes)} URLs may be fetched.")
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if not host or not self.allowlist.allows(host, port):
            raise RefusedError(
                f"{host or url!r} is not on the list of hosts this tool may fetch "
                f"({self.allowlist})."
            )
        if not self.allow_private_addresses and not self.allowlist.names_literal_address(host):
            self._refuse_private(host, port)
        return parsed

    def _refuse_private(self, host: str, port: int) -> None:
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except socket.gaierror:
            raise UpstreamError(f"The host {host!r} could not be resolved.") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if not address.is_global:
                raise RefusedError(
                    f"{host!r} resolves to a private or local address ({address}); "
                    f"such addresses are not fetched."
                )

    def _read(self, response: Any, deadline: float) -> FetchedResponse:
        encoding = response.headers.get("content-encoding", "identity").lower()
        if encoding not in ("identity", "gzip", "deflate", "x-gzip"):
            raise RefusedError(f"The response uses the unsupported encoding {encoding!r}.")
        inflate = None if encoding == "identity" else zlib.decompressobj(wbits=47)
        body = bytearray()
        truncated = False
        for chunk in response.iter_raw():  # as it arrives: the deadline is checked per piece
            if time.monotonic() > deadline:
                raise UpstreamError(
                    f"{response.url} took longer than {self.timeout:g} s to send its body."
                )
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk, self.max_bytes + 1 - len(body))
                except zlib.error:
                    raise UpstreamError("The compressed response is corrupt.") from None
            body.extend(chunk)
            if len(body) > self.max_bytes:
                truncated = True
                del body[self.max_bytes :]
                break
        content_type = response.headers.get("content-type", "")
        charset = response.charset_encoding
        return FetchedResponse(
            str(response.url), response.status_code, content_type, bytes(body), truncated, charset
        )


class HttpToolkit(Toolkit):
    """`http_get` to listed hosts only (see the module docs for every rule).

    Args:
        allow_hosts: hosts the model may fetch, e.g. ["api.github.com", "*.example.com"].
        schemes: URL schemes allowed (https only by default).
        max_bytes: response bytes kept at most; the model is told when it was cut.
        timeout: seconds for the whole request.
        max_redirects: redirects followed at most (each one checked again).
        headers: sent with every request (an API key, say: the model never sees them).
        allow_private_addresses: let listed host names resolve to private addresses.
        name_prefix: put before the tool name.
    """

    name = "http"

    def __init__(
        self,
        allow_hosts: Iterable[str],
        *,
        schemes: Iterable[str] = ("https",),
        max_bytes: int = 200_000,
        timeout: float = 10.0,
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
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        return [method_tool(self.http_get, prefix=self.name_prefix)]

    def close(self) -> None:
        self.fetcher.close()

    def http_get(self, url: str) -> dict[str, Any]:
        """Fetch a URL with GET and return its status, content type and text (size-capped).

        Args:
            url: the full URL; only some hosts are allowed.
        """
        fetched = self.fetcher.fetch(url)
        answer: dict[str, Any] = {
            "url": fetched.url,
            "status": fetched.status,
            "content_type": fetched.content_type,
        }
        if fetched.is_text:
            answer["text"] = fetched.text()
        else:
            answer["note"] = f"Binary content ({len(fetched.body)} bytes or more) not shown."
        if fetched.truncated:
            answer["truncated"] = f"The body was cut at {self.fetcher.max_bytes} bytes."
        return answer
