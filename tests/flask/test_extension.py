"""Flask specifics: the extension pattern, app factories, config, real servers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from werkzeug.serving import make_server

from selectools import Agent, ScriptedProvider
from selectools.serving import ServingOptions
from selectools.sessions import SQLAlchemySessionStore
from selectools_flask import Selectools
from tests.contract.apps import flask_app
from tests.contract.conftest import AUTH, parse_sse
from tests.fakes.agents import make_agent
from tests.fakes.live_agent import Signals, live_agent

ROOT = Path(__file__).parents[2]


def echo_agent(reply: str) -> Agent:
    return Agent(provider=ScriptedProvider([reply], cycle=True))


def test_app_factory_and_two_apps_in_one_process() -> None:
    ext = Selectools(agent=echo_agent("default agent"))

    def create_app(**config: Any) -> Flask:
        app = Flask(__name__)
        app.config.update(config)
        ext.init_app(app)
        return app

    first = create_app(SELECTOOLS_URL_PREFIX="/bot", SELECTOOLS_MODEL_NAME="first-bot")
    second = create_app()
    a, b = first.test_client(), second.test_client()
    assert a.post("/bot/invoke", json={"input": "x"}).get_json()["output"] == "default agent"
    assert b.post("/agent/invoke", json={"input": "x"}).get_json()["output"] == "default agent"
    assert a.post("/agent/invoke", json={"input": "x"}).status_code == 404
    assert a.get("/bot/v1/models").get_json()["data"][0]["id"] == "first-bot"
    assert b.get("/agent/v1/models").get_json()["data"][0]["id"] == "selectools-agent"
    assert "selectools" in first.extensions
    assert first.extensions["selectools"] is not second.extensions["selectools"]


def test_init_app_can_take_its_own_agent() -> None:
    ext = Selectools()
    one, two = Flask("one"), Flask("two")
    ext.init_app(one, agent=echo_agent("one"))
    ext.init_app(two, agent=echo_agent("two"))
    assert (
        one.test_client().post("/agent/invoke", json={"input": "x"}).get_json()["output"] == "one"
    )
    assert (
        two.test_client().post("/agent/invoke", json={"input": "x"}).get_json()["output"] == "two"
    )


def test_config_wins_over_constructor_defaults() -> None:
    app = Flask(__name__)
    app.config["SELECTOOLS_MAX_INPUT_CHARS"] = 5
    Selectools(app, agent=echo_agent("ok"))
    assert app.config["SELECTOOLS_STREAM_KEEPALIVE"] == 15.0  # set with setdefault
    answer = app.test_client().post("/agent/invoke", json={"input": "too long"})
    assert answer.status_code == 413


def test_every_serving_option_reaches_a_flask_app() -> None:
    """Options were copied through a hand-kept list of config keys: one added to
    ServingOptions without a key (builder_toolkits) was silently dropped for Flask."""
    import dataclasses

    from selectools.serving import ServingOptions

    chosen = ServingOptions(keepalive_seconds=3.0, builder_toolkits=("toolbox", "python"))
    app = Flask(__name__)
    Selectools(app, agent=echo_agent("ok"), options=chosen)
    assert app.extensions["selectools"].options == chosen
    keys = {k for k in app.config if k.startswith("SELECTOOLS_")}
    for field in dataclasses.fields(ServingOptions):
        key = "SELECTOOLS_STREAM_KEEPALIVE" if field.name == "keepalive_seconds" else None
        assert (key or f"SELECTOOLS_{field.name.upper()}") in keys, field.name


def test_missing_agent_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs an agent"):
        Selectools(Flask(__name__))


def test_session_store_url_from_config(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    agent = echo_agent("stored")
    app = Flask(__name__)
    app.config["SELECTOOLS_SESSION_STORE_URL"] = url
    Selectools(app, agent=agent)
    app.test_client().post("/agent/invoke", json={"input": "remember me", "session_id": "k"})
    stored = SQLAlchemySessionStore(url).load("k")
    assert stored is not None
    assert [m.content for m in stored.messages] == ["remember me", "stored"]
    assert agent.memory.store.load("k") is None  # the caller's agent object is untouched


def test_session_store_url_from_config_reaches_a_factorys_agents(tmp_path: Path) -> None:
    """Before, the URL applied only to an Agent: a factory's sessions stayed in memory."""
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    agents = {"fr": echo_agent("Bonjour"), "en": echo_agent("Hello")}
    app = Flask(__name__)
    app.config["SELECTOOLS_SESSION_STORE_URL"] = url
    Selectools(app, agent=lambda req: agents[req.headers.get("X-Lang", "en")])
    client = app.test_client()
    client.post("/agent/invoke", json={"input": "hi", "session_id": "en-1"})
    client.post(
        "/agent/invoke", json={"input": "salut", "session_id": "fr-1"}, headers={"X-Lang": "fr"}
    )
    store = SQLAlchemySessionStore(url)
    for session_id, said in (("en-1", ["hi", "Hello"]), ("fr-1", ["salut", "Bonjour"])):
        stored = store.load(session_id)
        assert stored is not None, session_id
        assert [m.content for m in stored.messages] == said
    assert all(agent.memory.store.load("en-1") is None for agent in agents.values())


def test_agent_factory_gets_the_request() -> None:
    agents = {"fr": echo_agent("Bonjour"), "en": echo_agent("Hello")}
    app = Flask(__name__)
    Selectools(app, agent=lambda req: agents[req.headers.get("X-Lang", "en")])
    client = app.test_client()
    assert client.post("/agent/invoke", json={"input": "hi"}).get_json()["output"] == "Hello"
    french = client.post("/agent/invoke", json={"input": "hi"}, headers={"X-Lang": "fr"})
    assert french.get_json()["output"] == "Bonjour"


def test_host_error_handlers_and_routes_are_untouched() -> None:
    app = flask_app(make_agent())
    client = app.test_client()
    assert client.get("/health").get_json() == {"status": "ok"}
    assert client.get("/agent/tools").status_code == 401  # the host's before_request ran


# -- real servers -------------------------------------------------------------------


@contextmanager
def werkzeug_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def test_stream_is_incremental_under_werkzeug() -> None:
    signals = Signals()
    with werkzeug_server(flask_app(live_agent(signals))) as url:
        seen = []
        with httpx.stream(
            "POST", f"{url}/agent/stream", json={"input": "gated"}, headers=AUTH, timeout=20
        ) as response:
            for line in response.iter_lines():
                if line.startswith("event: "):
                    seen.append(line[7:])
                    if line == "event: tool_call_started":
                        signals.gate.set()
                if '"run_finished"' in line:
                    assert json.loads(line[6:])["output"] == "tool said: opened"
    assert seen[:2] == ["run_started", "tool_call_started"]
    assert seen[-1] == "run_finished"


def test_disconnect_stops_the_run_under_werkzeug() -> None:
    signals = Signals()
    fast_keepalive = ServingOptions(keepalive_seconds=0.05)
    with werkzeug_server(flask_app(live_agent(signals), fast_keepalive)) as url:
        with httpx.stream(
            "POST", f"{url}/agent/stream", json={"input": "forever"}, headers=AUTH, timeout=20
        ) as response:
            for line in response.iter_lines():
                if line == "event: tool_call_started":
                    break
        assert signals.cancelled.wait(10), "the run kept going after its client left"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_example_app_under_gunicorn(tmp_path: Path) -> None:
    pytest.importorskip("gunicorn", reason="gunicorn is in the test dependency group")
    port = free_port()
    env = {
        **os.environ,
        "SELECTOOLS_DEMO_DIR": str(tmp_path / "fresh"),
        "SELECTOOLS_API_KEY": "gk",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--chdir",
            str(ROOT / "examples"),
            "flask_app:app",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        headers = {"Authorization": "Bearer gk"}
        try:
            answer = httpx.post(
                base + "/agent/invoke", json={"input": "order 1003?"}, headers=headers
            )
            assert answer.status_code == 200
            assert "Grace Hopper" in answer.json()["output"]
            streamed = httpx.post(base + "/agent/stream", json={"input": "hi"}, headers=headers)
            assert [n for n, _ in parse_sse(streamed.text)][-1] == "run_finished"
            assert httpx.post(base + "/agent/invoke", json={"input": "x"}).status_code == 401
        except httpx.TransportError:  # gunicorn went away: show why (a worker failed to boot?)
            server.terminate()
            server.wait(10)
            pytest.fail(server.stderr.read().decode()[-3000:] if server.stderr else "no stderr")
    finally:
        server.terminate()
        server.wait(10)


def test_flask_cli_loads_the_example(tmp_path: Path) -> None:
    """`flask --app examples/flask_app.py run` works: the CLI finds the app and its routes."""
    env = {**os.environ, "SELECTOOLS_DEMO_DIR": str(tmp_path)}
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "examples/flask_app.py", "routes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for route in ("/agent/invoke", "/agent/stream", "/agent/v1/chat/completions", "/orders/"):
        assert route in out.stdout
