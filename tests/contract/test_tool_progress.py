"""A generator tool's chunks reach clients as `tool_progress` SSE events on both adapters.

They arrive between the call's `tool_call_started` and `tool_call_finished`,
and, on real servers, while the tool is still running.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from selectools import Agent, ScriptedProvider, call, tool
from tests.contract import apps
from tests.contract.conftest import AUTH, FastAPIClient, FlaskClient, parse_sse
from tests.fakes.servers import UvicornThread


@tool
def import_rows(rows: int) -> Iterator[dict[str, int] | str]:
    """Import rows, reporting progress."""
    for done in range(1, rows + 1):
        yield {"done": done, "of": rows}
    return f"imported {rows} rows"


def progress_agent() -> Agent:
    return Agent(
        [import_rows],
        ScriptedProvider([call("import_rows", rows=3), "All imported."], cycle=True),
    )


@pytest.mark.parametrize("adapter", ["fastapi", "flask"])
def test_progress_events_come_between_start_and_finish(adapter: str) -> None:
    client = (
        FastAPIClient(progress_agent()) if adapter == "fastapi" else FlaskClient(progress_agent())
    )
    answer = client.request("POST", "/agent/stream", json={"input": "import"})
    assert answer.status == 200
    events = parse_sse(answer.text)
    names = [name for name, _ in events]
    started, finished = names.index("tool_call_started"), names.index("tool_call_finished")
    progress = [data for name, data in events if name == "tool_progress"]
    assert names[started + 1 : finished] == ["tool_progress"] * 3
    call_id = events[started][1]["call_id"]
    assert progress == [
        {
            "type": "tool_progress",
            "run_id": events[0][1]["run_id"],
            "call_id": call_id,
            "name": "import_rows",
            "chunk": {"done": i, "of": 3},
        }
        for i in (1, 2, 3)
    ]
    assert events[finished][1]["output"] == "imported 3 rows"  # what the model read
    assert events[-1][1]["output"] == "All imported."


def blocking_agent(release: threading.Event) -> Agent:
    @tool
    def long_job() -> Iterator[str]:
        """A long job that reports progress."""
        yield "step 1 of 2"
        if not release.wait(20):
            raise TimeoutError("the client never saw step 1")
        yield "step 2 of 2"

    return Agent([long_job], ScriptedProvider([call("long_job"), "Done."]))


def read_until_released(url: str, release: threading.Event) -> list[str]:
    """Stream the SSE answer; release the tool only once its first chunk has arrived."""
    names = []
    with httpx.stream(
        "POST", f"{url}/agent/stream", json={"input": "go"}, headers=AUTH, timeout=30
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            data = json.loads(line[6:])
            names.append(data["type"])
            if data["type"] == "tool_progress" and data["chunk"] == "step 1 of 2":
                release.set()
    return names


def test_fastapi_streams_progress_while_the_tool_runs() -> None:
    release = threading.Event()
    with UvicornThread(apps.fastapi_app(blocking_agent(release))) as server:
        names = read_until_released(server.url, release)
    assert names.count("tool_progress") == 2
    assert names[-1] == "run_finished"
    assert names.index("tool_call_finished") > names.index("tool_progress")


def test_flask_streams_progress_while_the_tool_runs() -> None:
    from werkzeug.serving import make_server

    release = threading.Event()
    server = make_server("127.0.0.1", 0, apps.flask_app(blocking_agent(release)), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        names = read_until_released(f"http://127.0.0.1:{server.server_port}", release)
    finally:
        server.shutdown()
        thread.join(10)
    assert names.count("tool_progress") == 2
    assert names[-1] == "run_finished"
