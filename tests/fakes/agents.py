"""A scripted agent for the web-adapter tests: behaviour chosen by the prompt."""

from __future__ import annotations

import asyncio

from selectools import (
    Agent,
    ContextLengthError,
    ModelRequest,
    ProviderAuthError,
    ProviderTimeoutError,
    RateLimitError,
    Reply,
    RunContext,
    ScriptedProvider,
    call,
    tool,
)


@tool
def get_weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: the city's name
    """
    return f"sunny in {city}"


@tool
def whoami(ctx: RunContext) -> str:
    """Who is asking, as the host app identified them."""
    return f"identity={ctx.identity} tenant={ctx.metadata.get('tenant')}"


@tool
async def slow_lookup(topic: str) -> str:
    """A lookup that takes a while."""
    await asyncio.sleep(0.6)
    return f"facts about {topic}"


FAILURES = {
    "fail:auth": lambda: ProviderAuthError("The model server rejected the API key (HTTP 401)."),
    "fail:ratelimit": lambda: RateLimitError("Rate limited (HTTP 429).", retry_after=3),
    "fail:timeout": lambda: ProviderTimeoutError("The model server did not answer in time."),
    "fail:context": lambda: ContextLengthError("Too long.", status_code=400),
    "fail:bug": lambda: RuntimeError("secret internal detail"),
}


def respond(request: ModelRequest) -> Reply | str:
    last = request.messages[-1]
    if last.role == "tool":
        outputs = [m.content for m in request.messages if m.role == "tool"]
        return f"Done: {'; '.join(o or '' for o in outputs)}"
    text = last.content or ""
    if text in FAILURES:
        raise FAILURES[text]()
    if text.startswith("weather in "):
        return Reply(calls=(call("get_weather", city=text.removeprefix("weather in ")),))
    if text == "whoami":
        return Reply(calls=(call("whoami"),))
    if text.startswith("slow "):
        return Reply(calls=(call("slow_lookup", topic=text.removeprefix("slow ")),))
    history = [m.content for m in request.messages if m.role == "user"]
    return f"You said: {text} (turn {len(history)})"


def make_agent() -> Agent:
    return Agent(
        [get_weather, whoami, slow_lookup],
        ScriptedProvider(responder=respond, chunk_delay=0.0),
        system_prompt="You are a test agent.",
    )
