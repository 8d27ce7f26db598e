"""`selectools serve` and `selectools demo` as real processes, called by real clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parents[2]
SCRIPT = str(Path(sys.executable).parent / "selectools")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def command(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> Iterator[str]:
    """Start `selectools ARGS --port N`; yield its base URL once it accepts connections."""
    port = free_port()
    full_env = {**os.environ, **(env or {})}
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        full_env.pop(name, None)  # the demo's offline model, never a real one
    proc = subprocess.Popen(
        [SCRIPT, *args, "--port", str(port)],
        cwd=cwd,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # --reload starts a child: stop the whole group
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"exited early:\n{proc.stdout.read() if proc.stdout else ''}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("the server did not start in 60 s") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    return {"SELECTOOLS_DEMO_DIR": str(tmp_path / "demo-data")}


def test_serve_the_example_answers_the_official_openai_client(demo_env: dict[str, str]) -> None:
    """The issue's promise: `selectools serve examples/fastapi_app.py:agent`."""
    from openai import BadRequestError, OpenAI

    with command("serve", "examples/fastapi_app.py:agent", env=demo_env) as url:
        client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        answer = client.chat.completions.create(
            model="agent", messages=[{"role": "user", "content": "Where is order 1001?"}]
        )
        assert "Ada Lovelace" in (answer.choices[0].message.content or "")
        streamed = client.chat.completions.create(
            model="agent",
            messages=[{"role": "user", "content": "Where is order 1002?"}],
            stream=True,
        )
        text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        assert "Alan Turing" in text
        assert [m.id for m in client.models.list()]
        with pytest.raises(BadRequestError) as refused:  # client-side tools: never ignored
            client.chat.completions.create(
                model="agent",
                messages=[{"role": "user", "content": "Where is order 1001?"}],
                tools=[{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
            )
        assert refused.value.status_code == 400
        assert "client-side tools" in refused.value.message
        page = httpx.get(f"{url}/playground")
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        tools = httpx.get(f"{url}/tools").json()
        assert {"run_query", "search_documents"} <= {t["name"] for t in tools["tools"]}


def test_serve_with_flask_a_prefix_and_a_key(agent_file: Path) -> None:
    from openai import AuthenticationError, OpenAI

    args = ("serve", f"{agent_file}:agent", "--flask", "--prefix", "agent", "--api-key", "s3cret")
    args += ("--no-playground",)
    with command(*args) as url:
        client = OpenAI(base_url=f"{url}/agent/v1", api_key="s3cret", max_retries=0)
        answer = client.chat.completions.create(
            model="agent", messages=[{"role": "user", "content": "order 4"}]
        )
        assert answer.choices[0].message.content == 'Found: {"order_id": 4, "status": "shipped"}'
        wrong = OpenAI(base_url=f"{url}/agent/v1", api_key="guess", max_retries=0)
        with pytest.raises(AuthenticationError):
            wrong.chat.completions.create(
                model="agent", messages=[{"role": "user", "content": "x"}]
            )
        refused = httpx.post(f"{url}/agent/invoke", json={"input": "hi"})
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "unauthorized"
        no_page = httpx.get(f"{url}/agent/playground", headers={"X-API-Key": "s3cret"})
        assert no_page.status_code == 404
        ok = httpx.post(
            f"{url}/agent/invoke", json={"input": "hi"}, headers={"X-API-Key": "s3cret"}
        )
        assert ok.json()["output"] == "You said: hi"


def test_serve_an_app_as_it_is(demo_env: dict[str, str]) -> None:
    with command("serve", "examples/fastapi_app.py:app", env=demo_env) as url:
        assert httpx.get(url).json()["app"] == "Acme Shop"
        assert httpx.post(f"{url}/agent/invoke", json={"input": "hi"}).status_code == 401


def test_serve_reload_picks_up_an_edit(agent_file: Path) -> None:
    with command("serve", f"{agent_file}:agent", "--reload") as url:
        first = httpx.post(f"{url}/invoke", json={"input": "hi"}, timeout=10).json()
        assert first["output"] == "You said: hi"
        agent_file.write_text(agent_file.read_text().replace("You said: ", "Heard: "))
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = httpx.post(f"{url}/invoke", json={"input": "hi"}, timeout=10)
                if reply.json()["output"] == "Heard: hi":
                    break
            except httpx.TransportError:
                pass  # restarting
            assert time.monotonic() < deadline, "the edit was not picked up in 30 s"
            time.sleep(0.1)


def test_demo_starts_and_answers_curl(demo_env: dict[str, str]) -> None:
    """`selectools demo`, then the README's curl line."""
    with command("demo", env=demo_env) as url:
        out = subprocess.run(
            [
                "curl", "-s", "-H", "Authorization: Bearer demo-key",
                "-H", "Content-Type: application/json",
                "-d", '{"input": "Where is order 1001?"}', f"{url}/agent/invoke",
            ],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert "Ada Lovelace" in out.stdout


def test_serve_refuses_what_it_cannot_serve(agent_file: Path) -> None:
    out = subprocess.run(
        [SCRIPT, "serve", f"{agent_file}:not_an_agent"], capture_output=True, text=True
    )
    assert out.returncode == 1
    assert "expected an Agent" in out.stderr
    assert "Traceback" not in out.stderr
