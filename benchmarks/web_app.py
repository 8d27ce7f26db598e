"""The app the web benchmark serves: the agent router beside plain routes doing the same work."""

from __future__ import annotations

import json

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from selectools import Agent, Message, ModelRequest, ScriptedProvider, call, tool
from selectools_fastapi import AgentRouter


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


def script() -> ScriptedProvider:
    return ScriptedProvider([call("get_weather", city="Paris"), "It is sunny."], cycle=True)


SCHEMAS = (tool(get_weather).schema(),)
plain_provider = script()
app = FastAPI()
app.include_router(AgentRouter(Agent([get_weather], script())), prefix="/agent")


async def hand_loop(prompt: str) -> str:
    messages = [Message.user(prompt)]
    while True:
        response = await plain_provider.acomplete(ModelRequest(tuple(messages), SCHEMAS))
        messages.append(response.message)
        if not response.message.tool_calls:
            return response.message.content or ""
        for tc in response.message.tool_calls:
            output = get_weather(**json.loads(tc.arguments))
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


def hand_loop_sync(prompt: str) -> str:
    messages = [Message.user(prompt)]
    while True:
        response = plain_provider.complete(ModelRequest(tuple(messages), SCHEMAS))
        messages.append(response.message)
        if not response.message.tool_calls:
            return response.message.content or ""
        for tc in response.message.tool_calls:
            output = get_weather(**json.loads(tc.arguments))
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


@app.post("/plain/invoke")
async def plain_invoke(body: dict[str, str]) -> dict[str, str]:
    return {"output": await hand_loop(body["input"])}


@app.post("/plain/stream")
async def plain_stream(body: dict[str, str]) -> StreamingResponse:
    async def frames():  # type: ignore[no-untyped-def]
        yield "event: run_started\ndata: {}\n\n"
        text = await hand_loop(body["input"])
        yield f"event: run_finished\ndata: {json.dumps({'output': text})}\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")
