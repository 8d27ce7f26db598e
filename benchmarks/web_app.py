"""The app the web benchmark serves: the agent router beside bare routes doing the same work.

Every request gets its own scripted conversation: the model's answer depends
only on that request's messages ("weather ..." asks for the tool once, then
answers; anything else is answered at once), so concurrent requests never
consume each other's steps.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from selectools import Agent, Message, ModelRequest, Reply, ScriptedProvider, call, tool
from selectools_fastapi import AgentRouter


def get_weather(city: str) -> str:
    """Weather for a city."""
    return f"sunny in {city}"


async def aget_weather(city: str) -> str:
    """Weather for a city (async: under `arun` a sync tool would hop to a thread, which the
    bare route does not do, so the FastAPI rows compare the same work)."""
    return f"sunny in {city}"


def respond(request: ModelRequest) -> Reply | str:
    """One conversation per request: decided by that request's own messages."""
    last = request.messages[-1]
    if last.role == "tool":
        return f"It is {last.content}."
    prompt = last.content or ""
    if prompt.startswith("weather "):
        return Reply(calls=(call("get_weather", city=prompt.removeprefix("weather ")),))
    return f"You said: {prompt}"


def scripted() -> ScriptedProvider:
    return ScriptedProvider(responder=respond)


SCHEMAS = (tool(get_weather).schema(),)
weather = tool(name="get_weather")(aget_weather)
bare_provider = scripted()
app = FastAPI()
agent = Agent([weather], scripted())
app.include_router(AgentRouter(agent), prefix="/agent")


async def hand_loop(prompt: str) -> str:
    """The same model calls and tool call, written by hand."""
    messages = [Message.user(prompt)]
    while True:
        response = await bare_provider.acomplete(ModelRequest(tuple(messages), SCHEMAS))
        messages.append(response.message)
        if not response.message.tool_calls:
            return response.message.content or ""
        for tc in response.message.tool_calls:
            output = await aget_weather(**json.loads(tc.arguments))
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


def hand_loop_sync(prompt: str) -> str:
    messages = [Message.user(prompt)]
    while True:
        response = bare_provider.complete(ModelRequest(tuple(messages), SCHEMAS))
        messages.append(response.message)
        if not response.message.tool_calls:
            return response.message.content or ""
        for tc in response.message.tool_calls:
            output = get_weather(**json.loads(tc.arguments))
            messages.append(Message.tool(output, tool_call_id=tc.id, name=tc.name))


@app.post("/plain/invoke")
async def plain_invoke(request: Request) -> Response:
    body = json.loads(await request.body())
    text = await hand_loop(body["input"])
    return Response(json.dumps({"output": text}), media_type="application/json")


@app.post("/arun/invoke")
async def arun_invoke(request: Request) -> Response:
    """A bare route calling the agent itself: isolates what the router adds."""
    body = json.loads(await request.body())
    result = await agent.arun(body["input"])
    return Response(json.dumps({"output": result.text}), media_type="application/json")


@app.post("/plain/stream")
async def plain_stream(request: Request) -> StreamingResponse:
    body = json.loads(await request.body())

    async def frames() -> AsyncIterator[str]:
        yield "event: run_started\ndata: {}\n\n"
        text = await hand_loop(body["input"])
        yield f"event: run_finished\ndata: {json.dumps({'output': text})}\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")
