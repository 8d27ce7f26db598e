"""Each framework driven the same way: a scripted model and the scenario's tools.

Every adapter returns (run_sync, run_async) callables for a Scenario.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from scenarios import FINAL, TOOLS, Scenario, history_pairs

Runner = tuple[Callable[[], Any], Callable[[], Awaitable[Any]]]


def decide(tool_results: int, scenario: Scenario) -> int:
    """How many tool calls the model makes now (0 = answer)."""
    done_turns = tool_results // scenario.calls_per_turn
    return scenario.calls_per_turn if done_turns < scenario.turns else 0


# -- the floor -----------------------------------------------------------------------


def hand_loop(scenario: Scenario) -> Runner:
    """Call a fake model, dispatch the tool from a dict, append messages."""
    import asyncio

    fn = TOOLS[scenario.tool]
    name = fn.__name__
    tools = {name: fn}

    def model(messages: list[dict[str, Any]]) -> dict[str, Any]:
        seen = sum(1 for m in messages if m["role"] == "tool")
        count = decide(seen, scenario)
        if not count:
            return {"role": "assistant", "content": FINAL}
        calls = [
            {"id": f"c{seen + i}", "name": name, "arguments": json.dumps({"city": "Paris"})}
            for i in range(count)
        ]
        return {"role": "assistant", "content": None, "tool_calls": calls}

    def start() -> list[dict[str, Any]]:
        past = [{"role": r, "content": t} for r, t in history_pairs(scenario.history)]
        return [*past, {"role": "user", "content": "Weather in Paris?"}]

    def run_sync() -> str:
        messages = start()
        while True:
            reply = model(messages)
            messages.append(reply)
            if not reply.get("tool_calls"):
                return str(reply["content"])
            for call in reply["tool_calls"]:
                out = tools[call["name"]](**json.loads(call["arguments"]))
                if asyncio.iscoroutine(out):
                    out = asyncio.run(out)
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": out})

    async def run_async() -> str:
        messages = start()
        while True:
            reply = model(messages)
            messages.append(reply)
            if not reply.get("tool_calls"):
                return str(reply["content"])
            calls = reply["tool_calls"]
            if scenario.tool == "sync":
                outs = [tools[c["name"]](**json.loads(c["arguments"])) for c in calls]
            else:
                outs = await asyncio.gather(
                    *(tools[c["name"]](**json.loads(c["arguments"])) for c in calls)
                )
            for call, out in zip(calls, outs, strict=True):
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": out})

    return run_sync, run_async


# -- selectools ----------------------------------------------------------------------


def selectools_runner(scenario: Scenario) -> Runner:
    from selectools import (
        Agent,
        AgentConfig,
        Message,
        ModelRequest,
        Reply,
        ScriptedProvider,
        call,
        tool,
    )

    fn = TOOLS[scenario.tool]
    name = fn.__name__

    def respond(request: ModelRequest) -> Reply | str:
        seen = sum(1 for m in request.messages if m.role == "tool")
        count = decide(seen, scenario)
        if not count:
            return FINAL
        return Reply(calls=tuple(call(name, city="Paris") for _ in range(count)))

    agent = Agent(
        [tool(fn)], ScriptedProvider(responder=respond), config=AgentConfig(max_iterations=50)
    )
    past = [Message(r, t) for r, t in history_pairs(scenario.history)]  # type: ignore[arg-type]
    prompt = [*past, Message.user("Weather in Paris?")]
    return (lambda: agent.run(prompt)), (lambda: agent.arun(prompt))


# -- LangChain 1.x (create_agent) ------------------------------------------------------


def langchain_runner(scenario: Scenario) -> Runner:
    from langchain.agents import create_agent
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
    from langchain_core.outputs import ChatGeneration, ChatResult
    from langchain_core.tools import tool as lc_tool

    fn = TOOLS[scenario.tool]
    name = fn.__name__

    class ScriptedChat(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "scripted"

        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

        def _generate(
            self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any
        ) -> ChatResult:
            seen = sum(1 for m in messages if isinstance(m, ToolMessage))
            count = decide(seen, scenario)
            if not count:
                message = AIMessage(content=FINAL)
            else:
                message = AIMessage(
                    content="",
                    tool_calls=[
                        {
                            "name": name,
                            "args": {"city": "Paris"},
                            "id": f"c{seen + i}",
                            "type": "tool_call",
                        }
                        for i in range(count)
                    ],
                )
            return ChatResult(generations=[ChatGeneration(message=message)])

    agent = create_agent(ScriptedChat(), tools=[lc_tool(fn)])
    past = [
        HumanMessage(t) if r == "user" else AIMessage(t) for r, t in history_pairs(scenario.history)
    ]
    state = {"messages": [*past, HumanMessage("Weather in Paris?")]}
    return (lambda: agent.invoke(state)), (lambda: agent.ainvoke(state))


# -- pydantic-ai (FunctionModel) ------------------------------------------------------


def pydantic_ai_runner(scenario: Scenario) -> Runner:
    from pydantic_ai import Agent
    from pydantic_ai.messages import (
        ModelRequest,
        ModelResponse,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
        UserPromptPart,
    )
    from pydantic_ai.models.function import AgentInfo, FunctionModel

    fn = TOOLS[scenario.tool]
    name = fn.__name__

    def model(messages: list[Any], info: AgentInfo) -> ModelResponse:
        seen = sum(
            1 for m in messages for p in getattr(m, "parts", []) if isinstance(p, ToolReturnPart)
        )
        count = decide(seen, scenario)
        if not count:
            return ModelResponse(parts=[TextPart(FINAL)])
        return ModelResponse(
            parts=[
                ToolCallPart(name, {"city": "Paris"}, tool_call_id=f"c{seen + i}")
                for i in range(count)
            ]
        )

    agent = Agent(FunctionModel(model), tools=[fn])
    history = [
        ModelRequest(parts=[UserPromptPart(t)])
        if r == "user"
        else ModelResponse(parts=[TextPart(t)])
        for r, t in history_pairs(scenario.history)
    ]
    return (
        lambda: agent.run_sync("Weather in Paris?", message_history=history or None),
        lambda: agent.run("Weather in Paris?", message_history=history or None),
    )


# -- OpenAI Agents SDK (a custom Model) -----------------------------------------------


def openai_agents_runner(scenario: Scenario) -> Runner:
    from agents import (
        Agent,
        Model,
        ModelResponse,
        Runner,
        Usage,
        function_tool,
        set_tracing_disabled,
    )
    from openai.types.responses import (
        ResponseFunctionToolCall,
        ResponseOutputMessage,
        ResponseOutputText,
    )

    set_tracing_disabled(True)
    fn = TOOLS[scenario.tool]
    name = fn.__name__

    class ScriptedModel(Model):
        async def get_response(
            self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any
        ) -> ModelResponse:
            items = input if isinstance(input, list) else []
            seen = sum(1 for item in items if _item_type(item) == "function_call_output")
            count = decide(seen, scenario)
            if not count:
                output: list[Any] = [
                    ResponseOutputMessage(
                        id="msg",
                        role="assistant",
                        status="completed",
                        type="message",
                        content=[
                            ResponseOutputText(text=FINAL, type="output_text", annotations=[])
                        ],
                    )
                ]
            else:
                output = [
                    ResponseFunctionToolCall(
                        arguments=json.dumps({"city": "Paris"}),
                        call_id=f"c{seen + i}",
                        name=name,
                        type="function_call",
                        id=f"fc{seen + i}",
                    )
                    for i in range(count)
                ]
            return ModelResponse(output=output, usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    agent = Agent(name="bench", model=ScriptedModel(), tools=[function_tool(fn)])
    past = [{"role": r, "content": t} for r, t in history_pairs(scenario.history)]
    prompt: Any = [*past, {"role": "user", "content": "Weather in Paris?"}]
    return (
        lambda: Runner.run_sync(agent, prompt, max_turns=50),
        lambda: Runner.run(agent, prompt, max_turns=50),
    )


def _item_type(item: Any) -> str | None:
    return item.get("type") if isinstance(item, dict) else getattr(item, "type", None)


FRAMEWORKS: dict[str, Callable[[Scenario], Runner]] = {
    "hand-written loop": hand_loop,
    "selectools": selectools_runner,
    "LangChain": langchain_runner,
    "pydantic-ai": pydantic_ai_runner,
    "OpenAI Agents": openai_agents_runner,
}

IMPORTS = {
    "selectools": "import selectools",
    "LangChain": "from langchain.agents import create_agent",
    "pydantic-ai": "import pydantic_ai",
    "OpenAI Agents": "import agents",
}

DISTRIBUTIONS = {
    "selectools": "selectools",
    "LangChain": "langchain",
    "pydantic-ai": "pydantic-ai-slim",
    "OpenAI Agents": "openai-agents",
}
