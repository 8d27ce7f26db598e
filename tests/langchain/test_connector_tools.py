"""Every prebuilt connector tool converts cleanly to LangChain; one runs the standard suites."""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from pathlib import Path
from typing import Any

import boto3
import chromadb
import pytest
from hubspot import HubSpot
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests
from moto import mock_aws
from selectools_chroma import ChromaToolkit, HashingEmbeddingFunction
from selectools_hubspot import HubSpotToolkit
from selectools_s3 import S3Toolkit
from selectools_salesforce import SalesforceToolkit
from selectools_sql import SQLToolkit

from selectools import Tool
from selectools.tools.schema import clean_schema
from selectools_langchain import to_langchain_tool

_DB = Path(tempfile.mkdtemp()) / "lc.db"
with sqlite3.connect(_DB) as _db:
    _db.executescript(
        "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT);"
        "INSERT OR IGNORE INTO items VALUES (1, 'lamp'), (2, 'desk');"
    )


def sql_query_tool() -> BaseTool:
    [query] = [t for t in SQLToolkit(f"sqlite:///{_DB}").tools() if t.name == "run_query"]
    return to_langchain_tool(query)


class SQLQueryTool:
    @property
    def tool_constructor(self) -> BaseTool:
        return sql_query_tool()

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"sql": "SELECT name FROM items ORDER BY id"}


class TestSQLToolUnit(SQLQueryTool, ToolsUnitTests): ...


class TestSQLToolIntegration(SQLQueryTool, ToolsIntegrationTests): ...


def all_connector_tools() -> list[Tool]:
    chroma = ChromaToolkit(
        client=chromadb.EphemeralClient(),
        name=f"lc_{uuid.uuid4().hex[:8]}",
        embedding_function=HashingEmbeddingFunction(),
        allow_writes=True,
    )
    s3 = S3Toolkit(
        bucket="b",
        client=boto3.client("s3", region_name="us-east-1"),
        allow_writes=True,
        allow_deletes=True,
    )
    sql = SQLToolkit(f"sqlite:///{_DB}", writable_tables=["items"])
    hubspot = HubSpotToolkit(client=HubSpot(access_token="unused"), allow_writes=True)
    salesforce = SalesforceToolkit(
        session_id="unused",
        instance_url="https://example.my.salesforce.com",
        writable_objects=["Lead"],
    )
    return [*sql.tools(), *chroma.tools(), *s3.tools(), *hubspot.tools(), *salesforce.tools()]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_every_connector_tool_converts(aws: Any) -> None:
    tools = all_connector_tools()
    assert len(tools) == 23  # 4 SQL, 3 Chroma, 4 S3, 6 HubSpot, 6 Salesforce
    for tool in tools:
        converted = to_langchain_tool(tool)
        assert converted.name == tool.name
        assert converted.description == tool.description
        schema = converted.tool_call_schema
        raw = schema if isinstance(schema, dict) else schema.model_json_schema()
        # exactly our schema, including toolkit narrowing (enums, hidden `bucket`)
        ours = dict(tool.parameters["properties"])
        theirs = clean_schema(dict(raw))["properties"]
        assert theirs == ours


def test_a_converted_connector_tool_runs(aws: Any) -> None:
    result = sql_query_tool().invoke({"sql": "SELECT name FROM items ORDER BY id"})
    assert '"rows": [["lamp"], ["desk"]]' in result
