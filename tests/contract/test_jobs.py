"""The job API on both adapters: submit, read, events, cancel, timeouts, ownership, limits."""

from __future__ import annotations

from typing import Any

from tests.contract.conftest import FastAPIClient, FlaskClient, parse_sse
from tests.contract.test_limits import MakeClient, make_client  # noqa: F401  (a fixture)

API = FastAPIClient | FlaskClient
BOB = {"Authorization": "Bearer token-bob"}


def submit(api: API, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.request("POST", "/agent/jobs", json=body)
    assert answer.status == 202, answer.text
    assert answer.headers["location"] == f"/agent/jobs/{answer.body['id']}"
    assert answer.body["status"] in {"queued", "running", "succeeded"}
    job: dict[str, Any] = answer.body
    return job


def events_until_done(api: API, job_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The SSE stream ends with `job_finished`: reading it is how a client waits."""
    answer = api.request("GET", f"/agent/jobs/{job_id}/events")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    return parse_sse(answer.text)


def test_one_input_runs_in_the_background_and_is_read_back(api: API) -> None:
    job = submit(api, {"input": "hello"})
    events = events_until_done(api, job["id"])
    assert [name for name, _ in events] == ["job_started", "item_finished", "job_finished"]
    answer = api.request("GET", f"/agent/jobs/{job['id']}")
    assert answer.status == 200
    assert answer.body["status"] == "succeeded"
    assert answer.body["progress"] == {"total": 1, "done": 1, "failed": 0}
    (item,) = answer.body["results"]
    assert item["result"]["output"] == "You said: hello (turn 1)"


def test_many_inputs_answer_in_order_and_a_failure_is_its_item_only(api: API) -> None:
    inputs = [{"input": "a"}, {"input": "fail:auth"}, {"input": "weather in Oslo"}]
    job = submit(api, {"inputs": inputs})
    events = events_until_done(api, job["id"])
    assert events[-1] == ("job_finished", {"status": "succeeded", "error": None})
    body = api.request("GET", f"/agent/jobs/{job['id']}").body
    assert body["progress"] == {"total": 3, "done": 3, "failed": 1}
    assert [r["index"] for r in body["results"]] == [0, 1, 2]
    assert [r["status"] for r in body["results"]] == [200, 502, 200]
    assert body["results"][1]["error"]["type"] == "provider_auth_error"
    assert "sunny in Oslo" in body["results"][2]["result"]["output"]


def test_the_identity_reaches_tools_in_the_background(api: API) -> None:
    job = submit(api, {"input": "whoami"})
    events_until_done(api, job["id"])
    body = api.request("GET", f"/agent/jobs/{job['id']}").body
    assert "identity=ada tenant=acme" in body["results"][0]["result"]["output"]


def test_another_identity_cannot_read_follow_or_cancel_a_job(api: API) -> None:
    job = submit(api, {"input": "slow facts"})
    for method, path in [
        ("GET", f"/agent/jobs/{job['id']}"),
        ("GET", f"/agent/jobs/{job['id']}/events"),
        ("DELETE", f"/agent/jobs/{job['id']}"),
    ]:
        answer = api.request(method, path, headers=BOB)
        assert answer.status == 404, (method, path)
        assert answer.body["error"]["type"] == "job_not_found_error"
    events = events_until_done(api, job["id"])
    assert events[-1][1]["status"] == "succeeded"  # bob's DELETE changed nothing
    assert api.request("GET", f"/agent/jobs/{job['id']}").body["cancel_requested"] is False


def test_cancel_stops_a_running_job(api: API) -> None:
    job = submit(api, {"inputs": [{"input": f"slow topic {i}"} for i in range(12)]})
    answer = api.request("DELETE", f"/agent/jobs/{job['id']}")
    assert answer.status == 202
    assert answer.body["cancel_requested"] is True
    events = events_until_done(api, job["id"])
    assert events[-1] == ("job_finished", {"status": "cancelled", "error": None})
    body = api.request("GET", f"/agent/jobs/{job['id']}").body
    assert body["status"] == "cancelled"
    assert body["progress"]["done"] < 12  # 4 at a time, 0.6 s each: it stopped early


def test_a_job_stops_at_its_timeout(api: API) -> None:
    job = submit(api, {"input": "slow topic", "timeout_seconds": 0.2})
    events = events_until_done(api, job["id"])
    assert events[-1][1]["status"] == "timed_out"
    body = api.request("GET", f"/agent/jobs/{job['id']}").body
    assert body["status"] == "timed_out"
    assert body["results"] == []


def test_bad_job_bodies_are_refused_before_anything_runs(api: API) -> None:
    both = api.request("POST", "/agent/jobs", json={"input": "a", "inputs": [{"input": "b"}]})
    assert both.status == 422
    neither = api.request("POST", "/agent/jobs", json={"timeout_seconds": 3})
    assert neither.status == 422
    long = api.request("POST", "/agent/jobs", json={"inputs": [{"input": "x" * 2_001}]})
    assert long.status == 413
    assert long.body["error"]["type"] == "request_too_large"
    negative = api.request("POST", "/agent/jobs", json={"input": "a", "timeout_seconds": -1})
    assert negative.status == 422


def test_unknown_and_malformed_job_ids_are_404(api: API) -> None:
    for job_id in ["0" * 32, "not-a-job", "..%2F..%2Fetc", "A" * 32]:
        answer = api.request("GET", f"/agent/jobs/{job_id}")
        assert answer.status == 404, job_id
        assert "Traceback" not in answer.text


def test_job_items_are_charged_to_the_submitters_quota(
    make_client: MakeClient,  # noqa: F811  (the fixture imported above)
    unique_name: str,
) -> None:
    client = make_client(quota_tokens=40, limits_namespace=unique_name)
    inputs = [{"input": f"prompt number {i}"} for i in range(12)]
    job = client.request("POST", "/agent/jobs", json={"inputs": inputs})
    assert job.status == 202
    events_until_done(client, job.body["id"])
    body = client.request("GET", f"/agent/jobs/{job.body['id']}").body
    statuses = [r["status"] for r in body["results"]]
    assert 200 in statuses  # ran while under the quota
    assert 429 in statuses  # then each item was refused, not run
    refused = [r for r in body["results"] if r["status"] == 429]
    assert {r["error"]["type"] for r in refused} == {"quota_exceeded"}
    again = client.request("POST", "/agent/jobs", json={"input": "one more"})
    assert again.status == 429  # used up: the next job is refused at the door
    other = client.request("POST", "/agent/jobs", json={"input": "hi"}, headers=BOB)
    assert other.status == 202  # bob has his own quota


def test_events_resume_after_the_last_event_id(api: API) -> None:
    job = submit(api, {"inputs": [{"input": "a"}, {"input": "b"}]})
    whole = api.request("GET", f"/agent/jobs/{job['id']}/events")
    ids = [int(line[4:]) for line in whole.text.splitlines() if line.startswith("id: ")]
    assert ids == sorted(ids)
    assert len(ids) == 4
    headers = {"Authorization": "Bearer token-ada", "Last-Event-ID": str(ids[1])}
    rest = api.request("GET", f"/agent/jobs/{job['id']}/events", headers=headers)
    assert [name for name, _ in parse_sse(rest.text)] == ["item_finished", "job_finished"]
    for bad in ["-1", "abc", "9" * 40]:
        headers["Last-Event-ID"] = bad
        refused = api.request("GET", f"/agent/jobs/{job['id']}/events", headers=headers)
        assert refused.status == 422, bad
