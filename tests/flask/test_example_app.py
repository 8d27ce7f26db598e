"""The Flask demo app: its own key check answers in the documented error shape too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fastapi.test_example_app import load_example


def test_demo_app_errors_use_the_documented_shape(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client = load_example("flask_app", monkeypatch, tmp_path).app.test_client()
    refused = client.post("/agent/invoke", json={"input": "x"})
    assert refused.status_code == 401
    assert refused.get_json()["error"]["type"] == "unauthorized"  # not an HTML page
    assert "X-API-Key" in refused.get_json()["error"]["message"]
    missing = client.get("/orders/9999", headers={"X-API-Key": "demo-key"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["type"] == "not_found"
    answer = client.post(
        "/agent/invoke", json={"input": "order 1002?"}, headers={"X-API-Key": "demo-key"}
    )
    assert answer.status_code == 200
    assert "Alan Turing" in answer.get_json()["output"]
