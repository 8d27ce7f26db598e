"""An example toolkit published through the `selectools.toolkits` entry point."""

from __future__ import annotations

from typing import Literal

from selectools import Tool, ToolkitError
from selectools.tools import Toolkit, method_tool

__all__ = ["WeatherToolkit"]

_TODAY = {"paris": 18.0, "oslo": 4.5, "tokyo": 22.0}


class WeatherToolkit(Toolkit):
    """Weather for a few cities, offline: a template for publishing a toolkit.

    Args:
        unit: the temperature unit the tools answer in.
        allow_reports: add `report_weather`, which writes (marked `writes=True`).
    """

    name = "weather"

    def __init__(
        self, unit: Literal["celsius", "fahrenheit"] = "celsius", allow_reports: bool = False
    ) -> None:
        self.unit = unit
        self.allow_reports = allow_reports
        self.reports: list[str] = []

    def tools(self) -> list[Tool]:
        made: list[Tool] = [method_tool(self.get_temperature)]
        if self.allow_reports:
            made.append(method_tool(self.report_weather, writes=True))
        return made

    @classmethod
    def catalog(cls) -> list[Tool]:
        """Every tool this toolkit can offer, for listings (writes included)."""
        return cls(allow_reports=True).tools()

    def close(self) -> None:
        """Nothing to release in this example."""

    def get_temperature(self, city: str) -> dict[str, float | str]:
        """Today's temperature in a city.

        Args:
            city: Paris, Oslo or Tokyo.
        """
        celsius = _TODAY.get(city.strip().lower())
        if celsius is None:
            raise ToolkitError(f"No weather for {city!r}; try Paris, Oslo or Tokyo.")
        value = celsius if self.unit == "celsius" else celsius * 9 / 5 + 32
        return {"city": city, "temperature": round(value, 1), "unit": self.unit}

    def report_weather(self, city: str, observation: str) -> str:
        """Record a weather observation for a city.

        Args:
            city: the city observed.
            observation: what was seen, e.g. 'light rain'.
        """
        self.reports.append(f"{city}: {observation}")
        return "recorded"
