"""The Flask app the web benchmark serves: the extension beside plain views doing the same work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request
from web_app import get_weather, hand_loop_sync, script

from selectools import Agent
from selectools_flask import Selectools

app = Flask(__name__)
Selectools(app, agent=Agent([get_weather], script()))


@app.post("/plain/invoke")
def plain_invoke() -> dict[str, Any]:
    return {"output": hand_loop_sync(request.get_json()["input"])}


@app.post("/plain/stream")
def plain_stream() -> Response:
    prompt = request.get_json()["input"]

    def frames() -> Iterator[str]:
        yield "event: run_started\ndata: {}\n\n"
        yield f"event: run_finished\ndata: {json.dumps({'output': hand_loop_sync(prompt)})}\n\n"

    return Response(frames(), mimetype="text/event-stream")
