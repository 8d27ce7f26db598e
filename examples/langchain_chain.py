"""selectools and LangChain together, offline: tools both ways and an agent inside LCEL.

Run: python examples/langchain_chain.py
"""

from __future__ import annotations

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool as langchain_tool

from selectools import Agent, ModelRequest, Reply, ScriptedProvider, call, tool
from selectools_langchain import as_runnable, from_langchain_tool, to_langchain_tool


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


@langchain_tool
def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert a temperature from Celsius to Fahrenheit."""
    return celsius * 9 / 5 + 32


def offline_model(request: ModelRequest) -> Reply | str:
    """Stands in for a real model: calls both tools, then summarises."""
    if request.messages[-1].role == "tool":
        results = [m.content for m in request.messages if m.role == "tool"]
        return f"It is {results[0]}, and 21 °C is {results[1]} °F."
    return Reply(
        calls=(call("get_weather", city="Lisbon"), call("celsius_to_fahrenheit", celsius=21))
    )


def main() -> None:
    # 1. A LangChain tool inside a selectools agent (and ours as a LangChain tool).
    agent = Agent(
        [get_weather, from_langchain_tool(celsius_to_fahrenheit)],
        ScriptedProvider(responder=offline_model),
    )
    print("LangChain sees:", to_langchain_tool(get_weather).invoke({"city": "Oslo"}))

    # 2. The agent as a Runnable in an LCEL chain.
    prompt = ChatPromptTemplate.from_messages([("human", "What is the weather in {city}?")])
    chain = prompt | as_runnable(agent) | StrOutputParser()
    print("Chain answers:", chain.invoke({"city": "Lisbon"}))


if __name__ == "__main__":
    main()
