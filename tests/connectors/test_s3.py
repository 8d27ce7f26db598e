"""S3Toolkit with moto: in-process `mock_aws`, and once through moto's real HTTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer
from selectools_s3 import S3ToolError, S3Toolkit

from selectools import Agent, ScriptedProvider, call


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        for bucket in ("docs", "archive", "forbidden"):
            client.create_bucket(Bucket=bucket)
        client.put_object(
            Bucket="docs",
            Key="reports/q1.md",
            Body=b"# Q1\nRevenue up.",
            ContentType="text/markdown",
        )
        client.put_object(
            Bucket="docs", Key="reports/data.json", Body=b'{"a": 1}', ContentType="application/json"
        )
        client.put_object(
            Bucket="docs",
            Key="reports/logo.png",
            Body=b"\x89PNG\r\n\x1a\n" + bytes(100),
            ContentType="image/png",
        )
        client.put_object(
            Bucket="docs", Key="reports/big.txt", Body=b"x" * 5000, ContentType="text/plain"
        )
        client.put_object(
            Bucket="docs", Key="private/salaries.csv", Body=b"name,salary", ContentType="text/csv"
        )
        client.put_object(
            Bucket="docs", Key="reports-secret/x.txt", Body=b"no", ContentType="text/plain"
        )
        client.put_object(
            Bucket="forbidden", Key="reports/q1.md", Body=b"secret", ContentType="text/plain"
        )
        yield client


@pytest.fixture
def toolkit(s3: Any) -> S3Toolkit:
    return S3Toolkit(bucket="docs", prefix="reports", client=s3, max_bytes=1000, max_keys=2)


def test_single_bucket_tools_take_no_bucket_argument(toolkit: S3Toolkit) -> None:
    tools = {t.name: t for t in toolkit.tools()}
    assert set(tools) == {"list_objects", "read_object"}
    assert "bucket" not in tools["read_object"].parameters["properties"]


def test_list_is_scoped_and_paginated(toolkit: S3Toolkit) -> None:
    first = toolkit.list_objects()
    assert [o["key"] for o in first["objects"]] == ["reports/big.txt", "reports/data.json"]
    second = toolkit.list_objects(continuation_token=first["next_token"])
    assert [o["key"] for o in second["objects"]] == ["reports/logo.png", "reports/q1.md"]
    assert second["next_token"] is None


def test_read_text_binary_and_capped(toolkit: S3Toolkit) -> None:
    md = toolkit.read_object("reports/q1.md")
    assert md["text"] == "# Q1\nRevenue up."
    assert md["truncated"] is False
    assert toolkit.read_object("data.json")["text"] == '{"a": 1}'  # relative to the prefix
    png = toolkit.read_object("reports/logo.png")
    assert "text" not in png
    assert png["content_type"] == "image/png"
    assert "Binary" in png["note"]
    big = toolkit.read_object("reports/big.txt")
    assert len(big["text"]) == 1000
    assert big["truncated"] is True
    assert "first 1000 of 5000 bytes" in big["note"]


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("../private/salaries.csv", "'..'"),
        ("reports/../private/salaries.csv", "'..'"),
        ("/private/salaries.csv", "relative key"),
        ("reports/./q1.md", "'.'"),
        ("reports\\..\\private", "relative key"),
    ],
)
def test_keys_outside_the_prefix_are_refused(toolkit: S3Toolkit, key: str, fragment: str) -> None:
    with pytest.raises(S3ToolError, match=fragment.replace(".", r"\.")):
        toolkit.read_object(key)


def test_similar_prefix_is_not_the_prefix(toolkit: S3Toolkit) -> None:
    # "reports-secret/x.txt" is read as reports/reports-secret/x.txt, never the sibling folder
    with pytest.raises(S3ToolError, match=r"No object 'reports/reports-secret/x\.txt'"):
        toolkit.read_object("reports-secret/x.txt")


def test_missing_objects_and_unlisted_buckets(s3: Any) -> None:
    kit = S3Toolkit(bucket_allowlist=["docs", "archive"], client=s3)
    assert kit.tools()[1].parameters["properties"]["bucket"]["enum"] == ["docs", "archive"]
    with pytest.raises(S3ToolError, match=r"No object 'nope\.txt' in bucket 'docs'"):
        kit.read_object("nope.txt", bucket="docs")
    with pytest.raises(S3ToolError, match="Bucket 'forbidden' is not allowed"):
        kit.read_object("reports/q1.md", bucket="forbidden")
    with pytest.raises(S3ToolError, match="Name a bucket"):
        kit.list_objects()


def test_a_bucket_and_an_allowlist_together_are_refused(s3: Any) -> None:
    """Before, the allowlist was dropped silently and the toolkit kept only `bucket`."""
    with pytest.raises(ValueError, match=r"\(one bucket\) or bucket_allowlist=.* not both"):
        S3Toolkit(bucket="docs", bucket_allowlist=["archive"], client=s3)
    with pytest.raises(ValueError, match=r"needs bucket=\.\.\. or bucket_allowlist"):
        S3Toolkit(client=s3)


def test_access_denied_is_readable(s3: Any) -> None:
    from botocore.stub import Stubber

    kit = S3Toolkit(bucket="docs", client=s3)
    with Stubber(s3) as stub:
        stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(S3ToolError, match=r"AWS denied access to 'a\.txt'"):
            kit.read_object("a.txt")


def test_writes_and_deletes_are_opt_in(s3: Any) -> None:
    kit = S3Toolkit(bucket="archive", client=s3, allow_writes=True, allow_deletes=True)
    assert {t.name for t in kit.tools()} == {
        "list_objects",
        "read_object",
        "write_object",
        "delete_object",
    }
    kit.write_object("notes/today.txt", "remember the milk")
    assert (
        s3.get_object(Bucket="archive", Key="notes/today.txt")["Body"].read()
        == b"remember the milk"
    )
    assert kit.delete_object("notes/today.txt") == {"deleted": "notes/today.txt"}
    with pytest.raises(S3ToolError, match="No object"):
        kit.delete_object("notes/today.txt")


def test_agent_reads_a_report(toolkit: S3Toolkit) -> None:
    provider = ScriptedProvider(
        [
            call("list_objects"),
            call("read_object", key="reports/q1.md"),
            call("read_object", key="../private/salaries.csv"),
            "Revenue was up in Q1.",
        ]
    )
    result = Agent(toolkit.tools(), provider).run("How was Q1?")
    assert result.tool_calls[1].result["text"].startswith("# Q1")
    assert result.tool_calls[2].error_type == "s3_refused_error"
    assert "salary" not in "".join(r.output for r in result.tool_calls)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_through_motos_real_http_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        client = boto3.client(
            "s3", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}"
        )
        client.create_bucket(Bucket="remote")
        client.put_object(
            Bucket="remote", Key="hello.txt", Body=b"hi over http", ContentType="text/plain"
        )
        kit = S3Toolkit(bucket="remote", client=client)
        assert kit.read_object("hello.txt")["text"] == "hi over http"
        assert [o["key"] for o in kit.list_objects()["objects"]] == ["hello.txt"]
    finally:
        server.stop()
