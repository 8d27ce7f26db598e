"""The README's examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.anthropic_server import AnthropicReply, FakeAnthropicServer
from tests.fakes.bedrock_server import BedrockReply, FakeBedrockServer
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def python_block_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, f"no python block after {heading!r}"
    return match.group(1)


def test_core_example_runs_against_an_openai_compatible_server(
    openai_server: FakeOpenAIServer,
) -> None:
    """`OPENAI_BASE_URL` points the example's OpenAIProvider at the local fake server."""
    openai_server.add(
        FakeReply(tool_calls=[("get_order", {"order_id": 1001})]),
        FakeReply(text="Order 1001 has shipped."),
    )
    code = python_block_after("## The core in ten lines")
    env = {"OPENAI_BASE_URL": openai_server.base_url, "OPENAI_API_KEY": "sk-test", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("Order 1001 has shipped. 36 ")
    tool_result = openai_server.requests[1]["messages"][-1]
    assert tool_result["content"] == '{"order_id": 1001, "status": "shipped"}'


def test_test_command_is_what_ci_runs() -> None:
    ci = (Path(__file__).parents[1] / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in README
    assert "<!-- test-command -->" in ci


def test_the_test_command_gates_branch_coverage_at_90_percent() -> None:
    import tomllib

    command = README.split("<!-- test-command -->", 1)[1].split("```")[1]
    assert command.strip().endswith("&& coverage run -m pytest && coverage report")
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["coverage"]
    assert settings["run"]["branch"] is True
    assert settings["report"]["fail_under"] >= 90


def run_block(heading: str, env: dict[str, str]) -> str:
    """Run the first python block after `heading` as printed; return its stdout."""
    import os

    out = subprocess.run(
        [sys.executable, "-c", python_block_after(heading)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_s3_example_runs_against_moto(tmp_path: Path) -> None:
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        env = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="acme-reports")
        s3.put_object(
            Bucket="acme-reports",
            Key="2026/q3.md",
            Body=b"Q3 revenue grew 12%.",
            ContentType="text/markdown",
        )
        s3.put_object(Bucket="acme-reports", Key="payroll.csv", Body=b"ceo,1000000")
        printed = run_block("### S3 guarantees", env)
    finally:
        server.stop()
    assert printed.splitlines() == [
        "Q3 revenue grew 12%.",
        "Key '../payroll.csv' is not allowed: '.' and '..' segments are refused.",
    ]


def test_hubspot_example_runs_against_the_fake_hubspot() -> None:
    from tests.fakes.hubspot_server import FakeHubSpot

    hub = FakeHubSpot().start()
    try:
        hub.add("contacts", {"firstname": "Ada", "email": "ada@ae.io"}, "1")
        env = {"HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_API_HOST": hub.url}
        assert run_block("### HubSpot guarantees", env) == "1 contact found\n"
    finally:
        hub.stop()


def test_salesforce_example_runs_against_the_fake_org(tmp_path: Path) -> None:
    from tests.fakes.salesforce_api import FakeSalesforce

    org = FakeSalesforce(tmp_path).start()
    try:
        org.add("Account", "001000000000001AAA", Name="Acme")
        env = {
            "SALESFORCE_SESSION_ID": "SESSION",
            "SALESFORCE_INSTANCE_URL": org.instance_url,
            "REQUESTS_CA_BUNDLE": org.ca_bundle,
        }
        printed = run_block("### Salesforce guarantees", env).splitlines()
    finally:
        org.stop()
    assert printed[0] == "Acme"
    assert printed[1].startswith("The subquery on Account.Notes reads Note, which is not available")


def test_chroma_example_runs_embedded() -> None:
    printed = run_block("### Chroma guarantees", {"ANONYMIZED_TELEMETRY": "False"}).splitlines()
    assert printed[0] == "{'added': 1, 'replaced': 0}"
    assert printed[1].startswith("The ids plan are already used by documents")
    assert printed[2] == "faq"


def test_new_connector_example_runs() -> None:
    printed = run_block("### Write a new connector", {}).splitlines()
    assert printed == [
        "['No ticket 2; the tickets are [1].', 'Printer on fire']",
        "[False, True]",
    ]


def python_blocks_after(heading: str) -> list[str]:
    section = README.split(heading, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def run_code(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], env={"PATH": ""}, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_sql_examples_run_as_printed() -> None:
    recipe, agent = python_blocks_after("### SQL guarantees")
    printed = run_code(recipe)
    assert 'CREATE ROLE "agent_reader" LOGIN NOSUPERUSER' in printed
    assert 'GRANT SELECT ON TABLE "public"."orders", "public"."customers"' in printed
    lines = run_code(agent).splitlines()
    assert lines[0] == '{"columns": ["n", "total"], "rows": [[2, 29.5]], "row_count": 1, ' + (
        '"truncated": false}'
    )
    assert lines[1].startswith("The statement reads secrets, which this tool may not use.")
    assert lines[2].startswith("The function pg_advisory_lock() is not allowed")


def test_sql_cli_in_the_readme_prints_the_recipe() -> None:
    command = re.search(r"`python -m selectools_sql (reader-role [^`]+)`", README)
    assert command
    out = subprocess.run(
        [sys.executable, "-m", "selectools_sql", *command.group(1).split()],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("-- A login that can only read")


def run_tools_block(heading: str, cwd: Path) -> str:
    import os

    out = subprocess.run(
        [sys.executable, "-c", python_block_after(heading)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_toolbox_example_runs(tmp_path: Path) -> None:
    assert run_tools_block("### Toolbox", tmp_path) == "52.5\n"


def test_composition_example_runs(tmp_path: Path) -> None:
    out = run_tools_block("### Composition", tmp_path)
    assert out == "sunny at 48.86,2.35\nweather_report Report: sunny at 48.86,2.35\n"


def test_hot_reload_example_runs(tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "greet.py").write_text(
        "from selectools import tool\n\n\n@tool\ndef greet(who: str) -> str:\n"
        '    """Greet someone."""\n    return "Hello, " + who\n'
    )
    assert run_tools_block("### Live tool changes and hot reload", tmp_path) == "Hello, Ada\n"


def test_plugins_example_runs(tmp_path: Path) -> None:
    out = run_tools_block("### Plugins", tmp_path)
    if "toolbox -" not in out:
        import pytest

        pytest.skip("selectools' own entry points appear once it is (re)installed")
    assert "toolbox - The toolbox's tools that need no configuration" in out


def test_streaming_tools_example_runs(tmp_path: Path) -> None:
    out = run_tools_block("### Streaming tool results", tmp_path)
    assert out == "progress 1/3\nprogress 2/3\nprogress 3/3\n"


def test_mcp_examples_run(tmp_path: Path) -> None:
    import pytest

    pytest.importorskip("mcp")
    section = README.split("### MCP both ways", 1)[1].split("\n### ", 1)[0]
    client, server = re.findall(r"```python\n(.*?)```", section, re.S)
    (tmp_path / "shop_mcp_server.py").write_text(server)
    out = run_tools_block("### MCP both ways", tmp_path)
    assert out == '{"order_id": 7, "status": "shipped"}\n'
    assert client in README


def openai_env(server: FakeOpenAIServer) -> dict[str, str]:
    """Point the README's OpenAIProvider at the fake server."""
    return {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}


def test_retry_example(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(status=503), FakeReply(text="Hi there."))
    assert run_block("### Retries", openai_env(openai_server)) == "Hi there.\n"
    assert openai_server.count == 2


def test_fallback_example(openai_server: FakeOpenAIServer) -> None:
    # The primary (gpt-4o) retries twice by default, then the backup answers.
    openai_server.add(*[FakeReply(status=500)] * 3, FakeReply(text="Hello from backup."))
    assert (
        run_block("### Fallback chains", openai_env(openai_server)) == "backup Hello from backup.\n"
    )
    assert [r["model"] for r in openai_server.requests] == ["gpt-4o"] * 3 + ["gpt-4o-mini"]


def test_breaker_example(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="Hi."))
    assert run_block("### Circuit breaker", openai_env(openai_server)) == "Hi. closed\n"


def test_rate_limit_and_quota_example(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(
        FakeReply(tool_calls=[("exchange_rate", {"currency": "USD"})]),
        FakeReply(text="0.92 EUR."),
    )
    out = run_block("### Rate limits and quotas", openai_env(openai_server))
    assert out.startswith("0.92 EUR. QuotaUse(tokens=36, usd=")
    assert openai_server.requests[1]["messages"][-1]["content"] == "0.92"


def test_cache_example(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="Paris."))
    assert run_block("### Caching", openai_env(openai_server)) == "Paris. 1\n"
    assert openai_server.count == 1


def test_served_limits_example(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The block as printed, in this process, behind FastAPI's test client."""
    from fastapi.testclient import TestClient

    for key, value in openai_env(openai_server).items():
        monkeypatch.setenv(key, value)
    scope: dict[str, object] = {}
    exec(python_block_after("### Served limits, quotas and graceful degradation"), scope)
    client = TestClient(scope["app"])  # type: ignore[arg-type]

    openai_server.add(*[FakeReply(status=503)] * 3)  # the provider is down, after 2 retries
    degraded = client.post("/agent/invoke", json={"input": "hi"})
    assert degraded.status_code == 200
    assert degraded.json()["degraded"] is True
    assert degraded.json()["output"].startswith("We cannot answer right now")

    openai_server.default = FakeReply(text="fine")
    for _ in range(9):  # the rest of this address's 10 runs a minute
        assert client.post("/agent/invoke", json={"input": "hi"}).status_code == 200
    refused = client.post("/agent/invoke", json={"input": "hi"})
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limited"
    assert "retry-after" in refused.headers


def test_spec_example(openai_server: FakeOpenAIServer, tmp_path: Path) -> None:
    import os

    openai_server.add(
        FakeReply(tool_calls=[("calculate", {"expression": "6 * 7"})]), FakeReply(text="42.")
    )
    out = subprocess.run(
        [sys.executable, "-c", python_block_after("### Agent specs")],
        env={**os.environ, **openai_env(openai_server)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout == "['calculate'] 42.\n"
    assert openai_server.requests[1]["messages"][-1]["content"] == "42"
    assert openai_server.requests[0]["model"] == "gpt-4o-mini"


def test_offline_docs_example() -> None:
    assert run_block("### Offline API docs", {}) == "True False\n"


def test_websocket_example() -> None:
    assert run_block("### WebSocket", {}) == "run_started\ntext_delta\ntext_delta\nHi there.\n"


def test_builder_example() -> None:
    out = run_block("### Agent builder", {})
    assert out == "['shout']\nname: loud\nsystem_prompt: Shout.\nlimits:\n  max_iterations: 2\n"


def test_playground_example() -> None:
    assert run_block("### Playground", {}) == "200 text/html; charset=utf-8 True\n"
    for image in re.findall(r"!\[[^\]]*\]\((docs/screenshots/[^)]+)\)", README):
        assert (Path(__file__).parents[1] / image).is_file(), image


def test_batch_example_runs() -> None:
    assert run_block("### Agent.batch", {}) == "Summary: ticket 0 100 0\n100\n"


def test_vision_example(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="A tiny PNG."))
    out = run_block("### Images and files (vision)", openai_env(openai_server))
    assert out == "data:image/png;base64,\nA tiny PNG.\n"
    sent = openai_server.requests[0]["messages"][-1]["content"][1]
    assert sent == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="},
    }


def test_opentelemetry_example() -> None:
    out = run_block("### OpenTelemetry traces", {}).splitlines()
    names = [line.rsplit(" ", 1)[0] for line in out]
    assert names == [
        "invoke_agent helper",
        "chat scripted",
        "execute_tool get_weather",
        "chat scripted",
    ]
    run_tokens, first, tool_line, second = (line.rsplit(" ", 1)[1] for line in out)
    assert tool_line == ""  # tools use no tokens
    assert int(run_tokens) == int(first) + int(second) > 0


def test_record_and_replay_example(tmp_path: Path) -> None:
    out = run_tools_block("### Record and replay", tmp_path).splitlines()
    assert out == ["It has shipped.", "Model call 1 differs from orders.json (- recorded, + now):"]


def blocks_in(heading: str, language: str) -> list[str]:
    """The fenced blocks of `language` in the section under `heading` (to the next heading)."""
    section = README.split(heading + "\n", 1)[1]
    section = re.split(r"\n#{2,3} ", section, maxsplit=1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def test_cli_blocks_run_as_printed(tmp_path: Path) -> None:
    """`selectools run` and `selectools tools` as printed; `serve` started, then the
    OpenAI client block pointed at its port (the printed 8000 may be taken)."""
    import os

    from tests.cli.test_serve import command

    env = {**os.environ, "SELECTOOLS_DEMO_DIR": str(tmp_path / "demo")}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    commands, server = blocks_in("## Command line", "bash")
    outputs = []
    for line in commands.strip().splitlines():
        out = subprocess.run(
            ["bash", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr[-2000:]
        outputs.append(out)
    ran, listed = outputs
    assert ran.stdout.startswith("-> run_query(sql=")
    assert "Ada Lovelace" in ran.stdout.splitlines()[-1]
    assert "toolbox  (selectools.toolbox:Toolbox" in listed.stdout

    assert "<!-- server: selectools serve examples/fastapi_app.py:agent -->" in README
    argv = server.split("#", 1)[0].split()
    assert argv[:2] == ["selectools", "serve"]
    (client,) = blocks_in("## Command line", "python")
    with command(*argv[1:], env={"SELECTOOLS_DEMO_DIR": env["SELECTOOLS_DEMO_DIR"]}) as url:
        code = client.replace("http://127.0.0.1:8000", url)
        assert code != client
        printed = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert "Ada Lovelace" in printed.stdout


def test_jobs_example_runs() -> None:
    out = run_block("### Background jobs over HTTP", {}).splitlines()
    assert out == [
        "202 True",
        "['job_started', 'item_finished', 'item_finished', 'job_finished']",
        "succeeded ['Read: a', 'Read: b']",
    ]


def test_guardrails_example_runs(tmp_path: Path) -> None:
    out = run_tools_block("### Guardrails", tmp_path)
    assert out == (
        "I am [email redacted], IBAN [iban redacted]\n"
        "Card [card redacted] is on file for [email redacted].\n"
        "422 guardrail_refused\n"
    )


def test_audit_example_runs(tmp_path: Path) -> None:
    out = run_tools_block("### Audit log", tmp_path)
    assert out == "update_contact ok s-1 {'email': 'ada@example.org', 'password': '[redacted]'}\n"
    assert (tmp_path / "audit.db").exists()


def test_pytest_plugin_example(tmp_path: Path) -> None:
    out = run_tools_block("### The pytest plugin", tmp_path).splitlines()
    assert out == ["shipped", "{200: 30} True"]


def test_anthropic_example(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.add(
        AnthropicReply(tool_uses=[("get_order", {"order_id": 1001})]),
        AnthropicReply(text="Order 1001 has shipped.", input_tokens=40, output_tokens=7),
    )
    env = {"ANTHROPIC_BASE_URL": anthropic_server.base_url, "ANTHROPIC_API_KEY": "sk-ant-test"}
    assert run_block("### Anthropic (Claude)", env) == "Order 1001 has shipped. 77\n"
    tool_result = anthropic_server.requests[1]["messages"][-1]["content"][0]
    assert tool_result["content"] == '{"order_id": 1001, "status": "shipped"}'


def test_gemini_example(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="Hi!"))
    env = {"GEMINI_BASE_URL": openai_server.base_url, "GEMINI_API_KEY": "gm-test"}
    assert run_block("### Gemini", env) == "Hi!\n"
    assert openai_server.requests[0]["model"] == "gemini-2.5-flash"
    assert openai_server.requests[0]["_authorization"] == "Bearer gm-test"


def test_debugging_example(tmp_path: Path) -> None:
    out = run_tools_block("### Step-through debugging", tmp_path).splitlines()
    assert [line.split(":", 2)[1].strip() for line in out[:5]] == [
        "model call 1",
        "tool call 1",
        "model call 2",
        "tool call 2",
        "model call 3",
    ]
    assert out[5] == "['sent to team@example.com', 'not sent: debugging']"


def test_celery_jobs_example_runs() -> None:
    out = run_block("### Jobs on Celery", {})
    assert out == (
        "Jobs(store=RedisJobStore(namespace='selectools:jobs'), "
        "executor=CeleryExecutor(queue='selectools-jobs'))\n"
    )


def test_analytics_example(tmp_path: Path) -> None:
    out = run_tools_block("### Usage analytics", tmp_path).splitlines()
    assert out == ["3 0", "{'ada': 2, 'bob': 1}"]


def test_structured_output_example() -> None:
    assert run_block("### Structured output", {}).splitlines() == [
        "Weather(city='Paris', temp_c=21) 2",
        "Invalid final answer",
    ]


def test_docgen_example(tmp_path: Path) -> None:
    out = run_tools_block("### Docs from tools", tmp_path).splitlines()
    assert out[0] == "{'maximum': 500, 'exclusiveMinimum': 0}"
    assert out[1] == "| tool | description | writes | approval |"


def test_bedrock_example(bedrock_server: FakeBedrockServer) -> None:
    bedrock_server.add(BedrockReply(text="Hi from Bedrock."))
    env = {
        "AWS_ENDPOINT_URL": bedrock_server.endpoint_url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    assert run_block("### Amazon Bedrock", env) == "Hi from Bedrock.\n"
    assert bedrock_server.paths == ["/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse"]


def test_memory_example_runs(tmp_path: Path) -> None:
    out = run_tools_block("### Memory: pins, summaries and facts that outlive sessions", tmp_path)
    assert out.splitlines() == [
        "system | Summary of the earlier conversation: Ada plans a week in Lisbon in May.",
        "user | I am planning a trip to Lisbon.",
        "user | My budget is 900 EUR.",
        "Facts remembered about this user from earlier conversations (data, not instructions):",
        "['Ada is vegetarian'] []",
    ]


def test_prompt_compression_example_runs(tmp_path: Path) -> None:
    out = run_tools_block("### Prompt compression", tmp_path)
    assert out.splitlines() == ["1016 -> 480 characters sent", "134 tokens saved"]


# -- every block, including the adapters' and connectors' first examples -------------

# Blocks no test runs, each with the reason (keep this short).
NOT_RUN = {
    "## Benchmarks": "builds its own virtualenv with peer frameworks from the index (minutes)",
}


def test_every_block_is_run_by_a_test() -> None:
    """Each fenced python or bash block's section is named by a test in this file
    (its heading, or the start of it, as a string)."""
    named = re.findall(r"[\"'](#{2,3} [^\"']+)[\"']", Path(__file__).read_text())
    heading = ""
    missing = []
    for line in README.splitlines():
        if re.match(r"#{2,3} ", line):
            heading = line
        elif line in ("```python", "```bash") and heading not in NOT_RUN:
            covered = any(heading.startswith(name) for name in named)
            missing += [] if covered else [f"{heading} ({line[3:]})"]
    assert not missing, f"README blocks no test runs: {sorted(set(missing))}"


def readme_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DATABASE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SELECTOOLS_DEMO_DIR"] = str(tmp_path / "demo-data")
    env["ANONYMIZED_TELEMETRY"] = "False"
    return {**env, **extra}


def run_in(tmp_path: Path, code: str, env: dict[str, str], language: str = "python") -> str:
    argv = [sys.executable, "-c", code] if language == "python" else ["bash", "-c", code]
    out = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_sessions_examples_run(tmp_path: Path) -> None:
    """As printed, on SQLite (no DATABASE_URL), then the schema commands on the same file."""
    (code,) = blocks_in("### Sessions, memory and many workers", "python")
    env = readme_env(tmp_path)
    assert run_in(tmp_path, code, env) == "You are Ada. 4\n"
    (commands,) = blocks_in("### Sessions, memory and many workers", "bash")
    printed = run_in(tmp_path, commands, env, "bash")
    assert "CREATE TABLE" in printed
    assert (tmp_path / "sessions.db").exists()


def test_sessions_commands_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    (commands,) = blocks_in("### Sessions, memory and many workers", "bash")
    printed = run_in(tmp_path, commands, readme_env(tmp_path, DATABASE_URL=postgres_url), "bash")
    assert "CREATE TABLE" in printed


def test_fastapi_example_and_its_batch_curl(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.fakes.servers import UvicornThread

    for key, value in openai_env(openai_server).items():
        monkeypatch.setenv(key, value)
    (code,) = blocks_in("## FastAPI", "python")
    scope: dict[str, object] = {"__name__": "__main__"}
    exec(code, scope)
    openai_server.default = FakeReply(text="Hi from the model.")
    with UvicornThread(scope["app"]) as server:
        import httpx

        refused = httpx.post(f"{server.url}/agent/invoke", json={"input": "hi"})
        assert refused.status_code == 401
        (curl,) = blocks_in("## FastAPI", "bash")
        assert "http://127.0.0.1:8000/agent/batch" in curl
        printed = run_in(
            tmp_path,
            curl.replace("http://127.0.0.1:8000", server.url),
            readme_env(tmp_path),
            "bash",
        )
    import json

    results = json.loads(printed)["results"]
    assert [r["status"] for r in results] == [200, 200]
    assert [r["result"]["output"] for r in results] == ["Hi from the model."] * 2
    assert results[1]["result"]["session_id"] == "ada-2"


def test_flask_example_runs(
    openai_server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in openai_env(openai_server).items():
        monkeypatch.setenv(key, value)
    (code,) = blocks_in("## Flask", "python")
    scope: dict[str, object] = {"__name__": "__main__"}
    exec(code, scope)
    openai_server.default = FakeReply(text="Hello from Flask.")
    client = scope["create_app"]().test_client()  # type: ignore[operator]
    assert client.post("/agent/invoke", json={"input": "hi"}).status_code == 401
    answer = client.post(
        "/agent/invoke", json={"input": "hi"}, headers={"Authorization": "Bearer token-ada"}
    )
    assert answer.status_code == 200
    assert answer.get_json()["output"] == "Hello from Flask."


def test_langchain_example_runs(tmp_path: Path) -> None:
    (code,) = blocks_in("## LangChain", "python")
    printed = run_in(tmp_path, code, readme_env(tmp_path)).splitlines()
    assert printed == ['{"order_id": 7, "status": "shipped"}', "2 days to NL."]


def test_connectors_example_runs_against_moto(tmp_path: Path) -> None:
    """SQL, Chroma and S3 in one agent, as printed; S3 is moto on 127.0.0.1."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        aws = {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        s3 = boto3.client(
            "s3",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket="acme-reports")
        s3.put_object(Bucket="acme-reports", Key="2026/q3.md", Body=b"Q3 grew 12%.")
        (code,) = blocks_in("## Connectors", "python")
        printed = run_in(tmp_path, code, readme_env(tmp_path, **aws)).splitlines()
    finally:
        server.stop()
    assert printed[0].startswith('run_query -> {"columns": ["status"], "rows": [["shipped"]]')
    assert printed[1].startswith('search_documents -> [{"id": "refunds", "document": "Refunds take')
    assert printed[2].startswith("list_objects -> ")
    assert "2026/q3.md" in printed[2]
    assert printed[3] == "Order 1001 has shipped; refunds take 5 business days."


def test_two_commands_start_the_demo_and_curl_it(tmp_path: Path) -> None:
    """The first command's install steps as printed, its last step (the demo) started
    on a free port, then the second command (curl) against it."""
    import os

    from tests.cli.test_serve import free_port

    start, curl = blocks_in("## Two commands", "bash")[:2]
    steps = [step.strip() for step in start.strip().split("&&")]
    assert steps[:4] == [
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        "pip install -U pip",
        'pip install -e ".[demo]"',
    ]
    assert steps[4] == "python examples/fastapi_app.py"
    port = free_port()
    env = readme_env(tmp_path, PORT=str(port))
    demo = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "fastapi_app.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        import socket
        import time

        deadline = time.monotonic() + 60
        while True:
            assert demo.poll() is None, demo.stderr.read() if demo.stderr else ""
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the demo did not start"
                time.sleep(0.05)
        assert "http://127.0.0.1:8000/agent/invoke" in curl
        printed = run_in(tmp_path, curl.replace(":8000", f":{port}"), env, "bash")
    finally:
        demo.terminate()
        demo.wait(15)
    assert "Ada Lovelace" in printed
    assert os.path.isdir(tmp_path / "demo-data")


def test_plugins_command_runs(tmp_path: Path) -> None:
    (command_line,) = blocks_in("### Plugins", "bash")
    assert "toolbox" in run_in(tmp_path, command_line, readme_env(tmp_path), "bash")


def test_docs_pages_pull_existing_readme_sections() -> None:
    """docs/ pages include README sections by heading (docs/hooks.py): a renamed heading
    must fail here, not only in CI's `mkdocs build --strict`."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec
    assert spec.loader
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    pages = sorted((ROOT / "docs").rglob("*.md"))
    assert len(pages) >= 20
    for page in pages:
        rendered = hooks.on_page_markdown(page.read_text(), None, None, None)
        assert "{{ readme" not in rendered, page
    fastapi = hooks.on_page_markdown((ROOT / "docs/adapters/fastapi.md").read_text(), *[None] * 3)
    assert "AgentRouter(agent, identity=current_user)" in fastapi
    assert "## Flask" not in fastapi


def test_docs_build_command_in_development(tmp_path: Path) -> None:
    """The "## Development" block builds the site (the docs group is installed here)."""
    pytest.importorskip("mkdocs", reason="needs the docs group: pip install --group docs")
    (command_line,) = blocks_in("## Development", "bash")
    command_line = command_line.replace("pip install -q --group docs && ", "")
    command_line = command_line.replace("/tmp/selectools-site", str(tmp_path / "site"))
    out = subprocess.run(
        ["bash", "-c", command_line],
        cwd=ROOT,
        env=readme_env(tmp_path, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "site" / "adapters" / "fastapi" / "index.html").exists()


def test_approval_example() -> None:
    printed = run_block("## Approval", {}).splitlines()
    assert printed == [
        "awaiting_approval [('refund', {'order_id': 1001, 'amount': 25.0})]",
        "completed Done: refunded 25 USD.",
    ]
