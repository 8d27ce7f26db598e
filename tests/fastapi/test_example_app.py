"""The README's demo app: its own routes and key check, the agent at /agent, offline model."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from tests.fakes.at_once import start_at_once

EXAMPLES = Path(__file__).parents[2] / "examples"


def load_example(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    monkeypatch.setenv("SELECTOOLS_DEMO_DIR", str(tmp_path / "fresh"))  # not created yet
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("SELECTOOLS_API_KEY", raising=False)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import demo_shop

    importlib.reload(demo_shop)  # pick up this test's data directory
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_app_answers_with_the_offline_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = load_example("fastapi_app", monkeypatch, tmp_path).app
    client = TestClient(app)
    assert client.get("/").json()["agent"] == "/agent"
    assert client.post("/agent/invoke", json={"input": "order 1001?"}).status_code == 401
    wrong = client.post(
        "/agent/invoke", json={"input": "x"}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["type"] == "unauthorized"  # the documented shape, not "detail"
    assert "X-API-Key" in wrong.json()["error"]["message"]
    missing = client.get("/orders/9999", headers={"X-API-Key": "demo-key"})
    assert (missing.status_code, missing.json()["error"]["type"]) == (404, "not_found")
    for headers in ({"Authorization": "Bearer demo-key"}, {"X-API-Key": "demo-key"}):
        answer = client.post(
            "/agent/invoke", json={"input": "Where is order 1002?"}, headers=headers
        )
        assert answer.status_code == 200
        body = answer.json()
        assert body["tool_calls"][0]["name"] == "run_query"
        assert "Alan Turing" in body["output"]
        assert "Offline demo model" in body["output"]
    policy = client.post(
        "/agent/invoke", json={"input": "How do refunds work?"}, headers={"X-API-Key": "demo-key"}
    ).json()
    assert policy["tool_calls"][0]["name"] == "search_documents"
    assert "original card" in policy["output"]
    own_route = client.get("/orders/1003", headers={"X-API-Key": "demo-key"})
    assert own_route.json()["customer"] == "Grace Hopper"


def test_demo_key_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    module = load_example("fastapi_app", monkeypatch, tmp_path)
    monkeypatch.setenv("SELECTOOLS_API_KEY", "s3cret")
    client = TestClient(module.app)
    assert client.get("/agent/tools", headers={"X-API-Key": "demo-key"}).status_code == 401
    assert client.get("/agent/tools", headers={"X-API-Key": "s3cret"}).status_code == 200


def _build_demo(folder: str) -> None:
    """One worker importing the demo over a data folder (a fresh one each round)."""
    import os
    import sys

    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    os.environ["SELECTOOLS_DEMO_DIR"] = folder
    import demo_shop

    importlib.reload(demo_shop)  # picks up the folder
    demo_shop.build_agent()


def test_workers_starting_the_demo_at_once_on_a_fresh_folder_all_start(tmp_path: Path) -> None:
    """`gunicorn -w 4 flask_app:app` imports the demo in every worker at the same moment:
    none may die creating the shop, embedded Chroma or the session tables."""
    folders = [str(tmp_path / f"fresh{attempt}") for attempt in range(8)]
    assert start_at_once(_build_demo, folders, workers=4) == []
