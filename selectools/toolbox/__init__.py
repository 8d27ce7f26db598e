"""Ready-made tools, each safe by default (`pip install -e ".[toolbox]"`).

Tools that need nothing but their arguments:

- `calculator.calculate`: arithmetic by walking the AST, never `eval`
- `dates.current_time`, `convert_timezone`, `date_difference`, `shift_date`: IANA time zones
- `units.convert_units`: unit conversion (pint)
- `jsonquery.json_query`: JMESPath over a JSON document
- `text.regex_find`, `regex_replace`, `text_stats`: regular expressions bounded in time

`Toolbox()` is all of them as one toolkit. Toolkits bound to what you allow:

- `FileToolkit(root)`: list and read files under one folder
- `TableToolkit(root)`: summarize CSV and .xlsx files under one folder
- `HttpToolkit(allow_hosts=[...])`: GET to listed hosts, with size and time caps
- `WebToolkit(allow_hosts=[...])`: a web page as text, title and links
- `PythonToolkit()`: run a snippet inside `selectools.sandbox.SubprocessSandbox`

Every refusal is a `RefusedError` and every bad input a `ToolkitError`: the
model reads why and can correct its call.
"""

from __future__ import annotations

from ..tools.tool import Tool
from ..tools.toolkit import Toolkit
from .calculator import calculate
from .dates import convert_timezone, current_time, date_difference, shift_date
from .fetch import HttpToolkit
from .files import FileToolkit
from .jsonquery import json_query
from .python import PythonToolkit
from .tables import TableToolkit
from .text import regex_find, regex_replace, text_stats
from .units import convert_units
from .webpage import WebToolkit

__all__ = [
    "FileToolkit",
    "HttpToolkit",
    "PythonToolkit",
    "TableToolkit",
    "Toolbox",
    "WebToolkit",
    "calculate",
    "convert_timezone",
    "convert_units",
    "current_time",
    "date_difference",
    "json_query",
    "regex_find",
    "regex_replace",
    "shift_date",
    "text_stats",
]


class Toolbox(Toolkit):
    """The toolbox's tools that need no configuration: math, dates, units, JSON, text."""

    name = "toolbox"

    def tools(self) -> list[Tool]:
        return [
            calculate,
            current_time,
            convert_timezone,
            date_difference,
            shift_date,
            convert_units,
            json_query,
            regex_find,
            regex_replace,
            text_stats,
        ]

    def close(self) -> None:
        """Nothing to release."""
