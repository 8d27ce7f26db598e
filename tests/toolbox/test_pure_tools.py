"""Calculator, dates, units, JSON query and text tools: answers and every refusal."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from selectools import Agent, RefusedError, ScriptedProvider, ToolkitError, call
from selectools.toolbox import (
    Toolbox,
    calculate,
    convert_timezone,
    convert_units,
    current_time,
    date_difference,
    json_query,
    regex_find,
    regex_replace,
    shift_date,
    text_stats,
)
from selectools.toolbox import text as text_module


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(17.5 * 3) / 4", 13.125),
        ("2 ** 10 - 1", 1023),
        ("sqrt(16) + abs(-2) + max(1, 5, 3)", 11.0),
        ("round(pi, 3)", 3.142),
        ("factorial(5) // 7 % 4", 1),
        ("-(3 - 5)", 2),
    ],
)
def test_the_calculator_calculates(expression: str, expected: float) -> None:
    assert calculate(expression=expression) == expected


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        ("__import__('os')", "'__import__' is not an allowed function"),
        ("__import__('os').system('id')", "'__import__('os').system' is not an allowed"),
        ("().__class__.__bases__", "is not allowed"),
        ("(1).real", "is not allowed"),
        ("open('/etc/passwd')", "'open' is not an allowed function"),
        ("x * 2", "Unknown name 'x'"),
        ("'a' * 10", "Only numbers are allowed"),
        ("[1] * 10", "is not allowed"),
        ("lambda: 1", "is not allowed"),
        ("9 ** 9 ** 9", "exponent 387420489 is too large"),
        ("10 ** 5000", "digits; the limit is"),
        ("(10 ** 1000) ** 5", "digits; the limit is"),
        ("2.0 ** 5000", "too large to represent"),
        ("factorial(100000)", "factorial takes a whole number"),
        ("sqrt(x=4)", "positional arguments only"),
        ("1+" * 150 + "1", "too complex"),
        ("1" * 600, "the limit is 500"),
    ],
)
def test_the_calculator_refuses(expression: str, refusal: str) -> None:
    with pytest.raises(RefusedError) as caught:
        calculate(expression=expression)
    assert refusal in str(caught.value)


def test_calculator_mistakes_reach_the_model() -> None:
    with pytest.raises(ToolkitError, match="Division by zero"):
        calculate(expression="1 / 0")
    with pytest.raises(ToolkitError, match="not an arithmetic expression"):
        calculate(expression="2 +* 3")
    agent = Agent(
        Toolbox().tools(),
        ScriptedProvider([call("calculate", expression="__import__('os')"), "ok"]),
    )
    [record] = agent.run("go").tool_calls
    assert record.error_type == "refused_error"
    assert "__import__" in (record.error or "")


def test_dates_and_time_zones() -> None:
    now = current_time(timezone_name="Asia/Tokyo")
    assert now["timezone"] == "Asia/Tokyo"
    assert now["utc_offset"] == "+0900"
    assert abs(datetime.fromisoformat(now["iso"]).timestamp() - time.time()) < 60
    # Paris switches to summer time on 2026-03-29: 09:30 CEST is 07:30 UTC, 16:30 in Tokyo.
    converted = convert_timezone(
        time="2026-03-29T09:30", from_timezone="Europe/Paris", to_timezone="Asia/Tokyo"
    )
    assert converted["iso"] == "2026-03-29T16:30:00+09:00"
    assert converted["weekday"] == "Sunday"
    assert date_difference(start="2026-01-01", end="2026-03-01") == 59
    assert date_difference(start="2026-01-02", end="2026-01-01", unit="hours") == -24
    assert shift_date(time="2024-01-31", months=1) == "2024-02-29"
    assert shift_date(time="2026-12-15", months=2, days=-1) == "2027-02-14"
    assert shift_date(time="2026-01-31T22:00", hours=3) == "2026-02-01T01:00:00"


@pytest.mark.parametrize(
    ("call_it", "fragment"),
    [
        (lambda: current_time(timezone_name="Mars/Olympus"), "Unknown time zone 'Mars/Olympus'"),
        (lambda: current_time(timezone_name="../../../etc/passwd"), "Unknown time zone"),
        (lambda: current_time(timezone_name="/etc/localtime"), "Unknown time zone"),
        (lambda: date_difference(start="yesterday", end="2026-01-01"), "not an ISO 8601"),
        (lambda: shift_date(time="2026-01-01", days=10**9), "thousand years"),
        (lambda: shift_date(time="9999-12-01", months=1), "outside the years 1 to 9999"),
    ],
)
def test_date_mistakes_say_what_to_send(call_it, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolkitError) as caught:
        call_it()
    assert fragment in str(caught.value)


def test_units() -> None:
    assert convert_units(value=100, from_unit="degC", to_unit="degF") == {
        "value": pytest.approx(212.0),
        "unit": "°F",
    }
    assert convert_units(value=60, from_unit="mile/hour", to_unit="km/h")["value"] == (
        pytest.approx(96.56064)
    )
    assert convert_units(value=1, from_unit="GiB", to_unit="MiB")["value"] == 1024
    with pytest.raises(ToolkitError, match="measure different things"):
        convert_units(value=1, from_unit="meter", to_unit="second")
    with pytest.raises(ToolkitError, match="Unknown unit"):
        convert_units(value=1, from_unit="blorb", to_unit="meter")
    with pytest.raises(ToolkitError, match="is not a unit name"):
        convert_units(value=1, from_unit="__import__('os')", to_unit="meter")


def test_json_query() -> None:
    document = json.dumps({"orders": [{"id": 1, "total": 50}, {"id": 2, "total": 150}]})
    assert json_query(document=document, expression="orders[?total > `100`].id") == [2]
    assert json_query(document=document, expression="length(orders)") == 2
    with pytest.raises(ToolkitError, match="Invalid JMESPath"):
        json_query(document=document, expression="orders[?")
    with pytest.raises(ToolkitError, match="not valid JSON"):
        json_query(document="{nope", expression="a")
    with pytest.raises(RefusedError, match="the limit is 1000000"):
        json_query(document="[" + "1," * 600_000 + "1]", expression="[0]")
    big = json.dumps({"rows": ["x" * 100] * 500})
    with pytest.raises(RefusedError, match="Select fewer fields"):
        json_query(document=big, expression="rows")


def test_regex_and_text() -> None:
    found = regex_find(pattern=r"(?P<user>\w+)@(\w+)\.com", text="ada@shop.com, bob@mail.com")
    assert found["count"] == 2
    assert found["matches"][0] == {
        "match": "ada@shop.com",
        "start": 0,
        "groups": ["ada", "shop"],
        "named": {"user": "ada"},
    }
    assert regex_find(pattern="a", text="aaaa", max_matches=2)["more"] is True
    assert regex_find(pattern="HELLO", text="hello", flags=["ignorecase"])["count"] == 1
    assert regex_replace(pattern=r"(\w+)@(\w+)", replacement=r"\2:\1", text="ada@shop") == (
        "shop:ada"
    )
    stats = text_stats(text="Hello world. Hello again!\nBye.")
    assert (stats["words"], stats["lines"], stats["sentences"]) == (5, 2, 3)
    assert stats["most_frequent_words"][0] == {"word": "hello", "count": 2}


def test_catastrophic_backtracking_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_module, "REGEX_TIMEOUT", 0.2)
    evil = "a" * 5000 + "!"
    started = time.monotonic()
    with pytest.raises(RefusedError, match="catastrophic backtracking"):
        regex_find(pattern=r"(a|aa)+$", text=evil)
    with pytest.raises(RefusedError, match="catastrophic backtracking"):
        regex_replace(pattern=r"(a|aa)+$", replacement="", text=evil)
    assert time.monotonic() - started < 20  # bounded (the timeout is CPU time, loosely)


def test_regex_mistakes_and_limits() -> None:
    with pytest.raises(ToolkitError, match="Invalid regular expression"):
        regex_find(pattern="(unclosed", text="x")
    with pytest.raises(ToolkitError, match="Invalid replacement"):
        regex_replace(pattern="(a)", replacement=r"\5", text="a")
    with pytest.raises(RefusedError, match="pattern is over 500"):
        regex_find(pattern="a" * 501, text="a")
    with pytest.raises(RefusedError, match="the limit is 1000000"):
        text_stats(text="a" * 1_000_001)


def test_the_toolbox_is_a_toolkit_of_config_free_tools() -> None:
    names = [t.name for t in Toolbox().tools()]
    assert len(names) == len(set(names)) == 10
    assert not any(t.writes for t in Toolbox().tools())
