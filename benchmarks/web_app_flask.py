"""The Flask app the web benchmark serves: the extension beside bare views doing the same work."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Flask, Response, request
from web_app import get_weather, hand_loop_sync, scripted

from selectools import Agent
from selectools_flask import Selectools

app = Flask(__name__)
agent = Agent([get_weather], scripted())
Selectools(app, agent=agent)


@app.post("/plain/invoke")
def plain_invoke() -> Response:
    text = hand_loop_sync(json.loads(request.get_data())["input"])
    return Response(json.dumps({"output": text}), mimetype="application/json")


@app.post("/arun/invoke")
def arun_invoke() -> Response:
    """A bare view calling the agent itself: isolates what the extension adds."""
    result = agent.run(json.loads(request.get_data())["input"])
    return Response(json.dumps({"output": result.text}), mimetype="application/json")


@app.post("/plain/stream")
def plain_stream() -> Response:
    prompt = json.loads(request.get_data())["input"]

    def frames() -> Iterator[str]:
        yield "event: run_started\ndata: {}\n\n"
        yield f"event: run_finished\ndata: {json.dumps({'output': hand_loop_sync(prompt)})}\n\n"

    return Response(frames(), mimetype="text/event-stream")
