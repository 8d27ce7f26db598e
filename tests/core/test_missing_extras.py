"""Each extra's features, run where that extra is not installed: the error is always
MissingDependencyError naming the extra (and how to install it from the checkout),
never a bare ModuleNotFoundError from deep inside, on the error paths too.

A meta-path finder in a fresh interpreter makes the extra's top-level modules
unimportable, as if they had never been installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

RUNNER = textwrap.dedent(
    """
    import asyncio, importlib.abc, json, sys

    BLOCKED = set(sys.argv[1].split(","))

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    outcomes = []
    for code in json.loads(sys.argv[2]):
        try:
            exec(code, {"asyncio": asyncio})
            outcomes.append(["no error", ""])
        except BaseException as exc:
            outcomes.append([type(exc).__name__, str(exc)])
    print(json.dumps(outcomes))
    """
)

AGENT = "from selectools import Agent, OpenAIProvider, ScriptedProvider, call, tool\n"
OPENAI = AGENT + "agent = Agent(provider=OpenAIProvider('gpt-4o-mini', api_key='k'))\n"
SCRIPTED = AGENT + "agent = Agent(provider=ScriptedProvider(['fine'], cycle=True))\n"

# extra -> (top-level modules it installs, code that uses its features)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "openai": (
        ["openai", "httpx", "tenacity"],
        [
            OPENAI + "agent.run('hi')",
            OPENAI + "list(agent.stream('hi'))",
            OPENAI + "asyncio.run(agent.arun('hi'))",
            AGENT + "Agent(provider=OpenAIProvider(api_key='k', max_retries=0)).run('hi')",
        ],
    ),
    "fastapi": (
        ["fastapi", "starlette", "uvicorn"],
        [
            "import selectools_fastapi",
            SCRIPTED + "from selectools.cli.apps import fastapi_app\nfastapi_app(agent)",
        ],
    ),
    "flask": (
        ["flask"],
        [
            "import selectools_flask",
            SCRIPTED + "from selectools.cli.apps import flask_app\nflask_app(agent)",
        ],
    ),
    "langchain": (["langchain_core"], ["import selectools_langchain"]),
    "sql": (
        ["sqlalchemy", "sqlglot"],
        [
            "from selectools.sessions import SQLAlchemySessionStore\n"
            "SQLAlchemySessionStore('sqlite://')",
            "import selectools_sql",
        ],
    ),
    "redis": (
        ["redis"],
        [
            "from selectools.sessions import RedisSessionStore\n"
            "RedisSessionStore('redis://127.0.0.1:6379/15')",
            SCRIPTED + "from selectools.policies import CircuitBreaker\n"
            "Agent(provider=ScriptedProvider(['x']), policies=[CircuitBreaker("
            "storage='redis://127.0.0.1:6379/15')]).run('hi')",
        ],
    ),
    "resilience": (
        ["tenacity", "limits"],
        [
            SCRIPTED + "from selectools.policies import Retry\n"
            "Agent(provider=ScriptedProvider(['x']), policies=[Retry()]).run('hi')",
            "from selectools.policies import RateLimiter\nRateLimiter('1/second')",
        ],
    ),
    "chroma": (["chromadb"], ["import selectools_chroma"]),
    "s3": (["boto3", "botocore"], ["import selectools_s3"]),
    "hubspot": (["hubspot"], ["import selectools_hubspot"]),
    "salesforce": (["simple_salesforce"], ["import selectools_salesforce"]),
    "toolbox": (
        ["httpx", "jmespath", "regex", "bs4", "openpyxl", "pint"],
        [
            "from selectools.toolbox import convert_units\nconvert_units(1, 'm', 'km')",
            "from selectools.toolbox import json_query\njson_query('{}', 'a')",
            "from selectools.toolbox import regex_find\nregex_find('a', 'abc')",
            "from selectools.toolbox import HttpToolkit\n"
            "HttpToolkit(allow_hosts=['example.com']).http_get('https://example.com')",
        ],
    ),
    "mcp": (
        ["mcp"],
        [
            "import sys\nfrom selectools.mcp import MCPToolkit\n"
            "MCPToolkit.stdio(sys.executable, 'server.py').tools()",
            "from selectools.mcp import serve_mcp\nserve_mcp([])",
            "from selectools.mcp import mcp_app\nmcp_app([])",
        ],
    ),
    "reload": (
        ["watchfiles"],
        [
            "from selectools import ToolLoader, ToolSet\n"
            "loader = ToolLoader(ToolSet())\nloader.watch().__enter__()",
        ],
    ),
    "spec": (["yaml", "tomli_w"], ["from selectools import Agent\nAgent.from_spec('a.yaml')"]),
    "batch": (["tqdm"], [SCRIPTED + "agent.batch(['a', 'b'], progress=True)"]),
    "otel": (
        ["opentelemetry"],
        ["from selectools.telemetry import OpenTelemetry\nOpenTelemetry()"],
    ),
    "cli": (["click"], ["from selectools.cli import build\nbuild()"]),
    "anthropic": (
        ["anthropic", "tenacity"],
        [
            "from selectools import Agent, AnthropicProvider\n"
            "Agent(provider=AnthropicProvider('claude-sonnet-4-5', api_key='k')).run('hi')",
        ],
    ),
    "bedrock": (
        ["boto3", "botocore", "tenacity"],
        [
            "from selectools import Agent, BedrockProvider\n"
            "Agent(provider=BedrockProvider('anthropic.claude-3-haiku', "
            "region_name='us-east-1')).run('hi')",
        ],
    ),
    "celery": (
        ["celery"],
        ["from selectools.jobs.celery import CeleryExecutor\nCeleryExecutor(object())"],
    ),
    "schema": (
        ["jsonschema"],
        [
            SCRIPTED.replace("['fine']", "['{\"n\": 1}']")
            + "agent.run('hi', output_type={'type': 'object', 'properties': {'n': "
            "{'type': 'integer'}}})",
        ],
    ),
}


def extras_in_pyproject() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return set(project["optional-dependencies"])


def test_every_extra_with_features_is_covered() -> None:
    # Bundles only (they add no feature of their own) and the large minilm model,
    # whose loader is checked in tests/connectors/test_chroma.py.
    bundles = {"all", "demo", "postgres", "chroma-minilm"}
    assert extras_in_pyproject() - bundles == set(CASES)


@pytest.mark.parametrize("extra", sorted(CASES))
def test_features_without_their_extra_name_it(extra: str, tmp_path: Path) -> None:
    blocked, snippets = CASES[extra]
    (tmp_path / "a.yaml").write_text("name: a\n")
    out = subprocess.run(
        [sys.executable, "-c", RUNNER, ",".join(blocked), json.dumps(snippets)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    for code, (kind, message) in zip(snippets, json.loads(out.stdout), strict=True):
        assert kind == "MissingDependencyError", f"{code!r} raised {kind}: {message}"
        assert f'pip install -e ".[{extra}]"' in message, (code, message)
