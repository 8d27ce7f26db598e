"""HttpToolkit and WebToolkit against a local server with hostile routes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from selectools import Agent, RefusedError, ScriptedProvider, ToolkitError, UpstreamError, call
from selectools.toolbox import HttpToolkit, WebToolkit
from tests.fakes.web_server import WebServer


@pytest.fixture
def server() -> Iterator[WebServer]:
    web = WebServer().start()
    yield web
    web.stop()


@pytest.fixture
def http(server: WebServer) -> Iterator[HttpToolkit]:
    kit = HttpToolkit([f"127.0.0.1:{server.port}"], schemes=["http"], max_bytes=10_000, timeout=2)
    yield kit
    kit.close()


def test_an_allowed_host_is_fetched(http: HttpToolkit, server: WebServer) -> None:
    answer = http.http_get(f"{server.base}/text")
    assert answer == {
        "url": f"{server.base}/text",
        "status": 200,
        "content_type": "text/plain; charset=utf-8",
        "text": "hello from the server",
    }
    assert http.http_get(f"{server.base}/missing")["status"] == 404
    assert "Binary content" in http.http_get(f"{server.base}/binary")["note"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:{port}/text",  # another host
        "http://127.0.0.1:1/text",  # the allowed host on another port
        "http://127.0.0.1:{port}@evil.example/text",  # user-info trick
        "http://evil.example/?u=http://127.0.0.1:{port}/text",
    ],
)
def test_hosts_not_on_the_allowlist_are_refused_before_any_connection(
    http: HttpToolkit, server: WebServer, url: str
) -> None:
    with pytest.raises(RefusedError, match="not on the list of hosts"):
        http.http_get(url.format(port=server.port))
    assert server.paths == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://x/"])
def test_other_schemes_are_refused(http: HttpToolkit, url: str) -> None:
    with pytest.raises(RefusedError, match="only http URLs"):
        http.http_get(url)


def test_https_only_by_default(server: WebServer) -> None:
    kit = HttpToolkit([f"127.0.0.1:{server.port}"])
    with pytest.raises(RefusedError, match="only https URLs"):
        kit.http_get(f"{server.base}/text")
    kit.close()
    assert server.paths == []


def test_a_listed_name_resolving_to_a_private_address_is_refused(server: WebServer) -> None:
    kit = HttpToolkit([f"localhost:{server.port}"], schemes=["http"])
    with pytest.raises(RefusedError, match="private or local address"):
        kit.http_get(f"http://localhost:{server.port}/text")
    kit.close()
    assert server.paths == []
    opted_in = HttpToolkit(
        [f"localhost:{server.port}"], schemes=["http"], allow_private_addresses=True
    )
    assert opted_in.http_get(f"http://localhost:{server.port}/text")["status"] == 200
    opted_in.close()


def test_redirects_are_checked_hop_by_hop(http: HttpToolkit, server: WebServer) -> None:
    assert http.http_get(f"{server.base}/to-text")["text"] == "hello from the server"
    with pytest.raises(RefusedError, match="'localhost' is not on the list"):
        http.http_get(f"{server.base}/to-other-host")
    with pytest.raises(RefusedError, match=r"'169\.254\.169\.254' is not on the list"):
        http.http_get(f"{server.base}/to-metadata")
    with pytest.raises(RefusedError, match="More than 3 redirects"):
        http.http_get(f"{server.base}/loop")
    assert "/text" in server.paths
    assert server.paths.count("/loop") == 4


def test_an_endless_response_is_streamed_and_cut(http: HttpToolkit, server: WebServer) -> None:
    answer = http.http_get(f"{server.base}/endless")
    assert len(answer["text"]) == 10_000
    assert answer["truncated"] == "The body was cut at 10000 bytes."


def test_a_gzip_bomb_is_inflated_only_up_to_the_cap(http: HttpToolkit, server: WebServer) -> None:
    answer = http.http_get(f"{server.base}/gzip-bomb")
    assert len(answer["text"]) == 10_000
    assert "truncated" in answer
    with pytest.raises(RefusedError, match="unsupported encoding 'br'"):
        http.http_get(f"{server.base}/brotli")


def test_time_is_capped_for_silence_and_for_a_slow_drip(server: WebServer) -> None:
    kit = HttpToolkit([f"127.0.0.1:{server.port}"], schemes=["http"], timeout=0.5)
    for path in ("/hang", "/drip"):
        started = time.monotonic()
        with pytest.raises(UpstreamError, match=r"0\.5 s"):
            kit.http_get(f"{server.base}{path}")
        assert time.monotonic() - started < 10  # bounded, not the 30 s the server would take
    kit.close()


def test_bad_urls_and_unreachable_hosts_are_tool_errors(server: WebServer) -> None:
    kit = HttpToolkit(["127.0.0.1:1"], schemes=["http"], timeout=2)
    with pytest.raises(UpstreamError, match="Could not fetch"):
        kit.http_get("http://127.0.0.1:1/")
    with pytest.raises(ToolkitError):
        kit.http_get("http://[not-an-ip/")
    kit.close()


def test_the_model_reads_refusals_as_tool_errors(http: HttpToolkit, server: WebServer) -> None:
    agent = Agent([http], ScriptedProvider([call("http_get", url="http://169.254.169.254/"), "ok"]))
    [record] = agent.run("go").tool_calls
    assert record.error_type == "refused_error"
    assert "not on the list of hosts" in (record.error or "")


def test_a_web_page_becomes_text_without_scripts(server: WebServer) -> None:
    with WebToolkit([f"127.0.0.1:{server.port}"], schemes=["http"]) as kit:
        page = kit.read_web_page(f"{server.base}/page")  # type: ignore[attr-defined]
    assert page["title"] == "Shop policies"
    assert "Returns within 30 days." in page["text"]
    assert "Shipping is free." in page["text"]
    assert "One\nTwo" in page["text"]
    for hidden in ("alert", "secret", "color: red", "enable js"):
        assert hidden not in page["text"]
    assert page["links"] == [
        {"text": "Returns", "url": f"{server.base}/returns"},
        {"text": "Elsewhere", "url": "https://other.example/x"},
    ]


def test_web_page_refusals_and_caps(server: WebServer) -> None:
    kit = WebToolkit([f"127.0.0.1:{server.port}"], schemes=["http"], max_chars=20)
    assert kit.read_web_page(f"{server.base}/page")["truncated"].startswith("The text was cut")
    with pytest.raises(RefusedError, match="not a web page"):
        kit.read_web_page(f"{server.base}/binary")
    with pytest.raises(RefusedError, match="not on the list"):
        kit.read_web_page("http://example.com/")
    kit.close()
