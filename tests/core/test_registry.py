"""The plugin registry: the template package is discovered through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from selectools import Agent, ScriptedProvider, call
from selectools.registry import (
    GROUP,
    PluginNotFoundError,
    ToolkitSettingsError,
    describe_installed,
    format_listing,
    installed,
    load_toolkit,
)

TEMPLATE = Path(__file__).parents[2] / "examples" / "plugin_package"


def install_as_metadata(site: Path, name: str, version: str, entry_points: dict[str, str]) -> None:
    """What `pip install` leaves for importlib.metadata: a dist-info with entry_points.txt."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The template installed into a folder on sys.path, entry points as its pyproject says."""
    project = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())
    points = project["project"]["entry-points"][GROUP]
    site = tmp_path / "site"
    (site / "selectools_weather").mkdir(parents=True)
    source = TEMPLATE / "src" / "selectools_weather" / "__init__.py"
    (site / "selectools_weather" / "__init__.py").write_text(source.read_text())
    install_as_metadata(site, project["project"]["name"], project["project"]["version"], points)
    install_as_metadata(site, "broken-plugin", "1.0", {"broken": "no_such_module_xyz:Kit"})
    monkeypatch.syspath_prepend(str(site))
    return site


def test_the_template_is_discovered_with_its_tools_and_flags(site: Path) -> None:
    names = {ep.name for ep in installed()}
    assert {"weather", "broken"} <= names
    weather = next(i for i in describe_installed() if i.name == "weather")
    assert weather.distribution == "selectools-weather-example"
    assert weather.version == "0.1.0"
    assert weather.description.startswith("Weather for a few cities, offline")
    assert weather.tools is not None
    tools = {t.name: t for t in weather.tools}
    assert tools["get_temperature"].writes is False
    assert tools["report_weather"].writes is True
    assert tools["get_temperature"].description == "Today's temperature in a city."


def test_a_broken_plugin_is_listed_with_the_reason_not_fatal(site: Path) -> None:
    broken = next(i for i in describe_installed() if i.name == "broken")
    assert "cannot be imported: ModuleNotFoundError" in broken.note
    assert broken.tools is None


def test_load_toolkit_builds_it_for_an_agent(site: Path) -> None:
    kit = load_toolkit("weather", unit="fahrenheit")
    agent = Agent([kit], ScriptedProvider([call("get_temperature", city="Paris"), "ok"]))
    [record] = agent.run("weather?").tool_calls
    assert record.result == {"city": "Paris", "temperature": 64.4, "unit": "fahrenheit"}
    with pytest.raises(PluginNotFoundError, match="publishes a toolkit named 'nope'"):
        load_toolkit("nope")


def test_settings_that_do_not_fit_name_the_setting_not_a_bare_type_error(site: Path) -> None:
    with pytest.raises(ToolkitSettingsError, match="unexpected keyword argument 'units'") as bad:
        load_toolkit("weather", units="fahrenheit")
    assert "Its settings: unit" in str(bad.value)
    assert bad.value.http_status == 422
    assert isinstance(bad.value, TypeError)  # what callers caught before still works


def test_this_repository_publishes_its_toolkits() -> None:
    published = {ep.name: ep.value for ep in installed()}
    if "toolbox" not in published:
        pytest.skip("selectools' own entry points appear once it is (re)installed")
    assert published["toolbox"] == "selectools.toolbox:Toolbox"
    assert published["sql"] == "selectools_sql:SQLToolkit"
    infos = {i.name: i for i in describe_installed()}
    assert infos["toolbox"].tools is not None
    assert "calculate" in {t.name for t in infos["toolbox"].tools}
    assert infos["sql"].note == "needs settings to list its tools"
    assert infos["s3"].note == "needs settings to list its tools"  # raises without a bucket


def test_the_listing_shows_flags_and_the_command_runs(site: Path) -> None:
    text = format_listing(describe_installed())
    assert "- report_weather [writes]: Record a weather observation for a city." in text
    assert "- get_temperature: Today's temperature in a city." in text
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    out = subprocess.run(
        [sys.executable, "-m", "selectools.registry", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    listed = {item["name"]: item for item in json.loads(out.stdout)}
    assert [t["name"] for t in listed["weather"]["tools"]] == ["get_temperature", "report_weather"]
    assert listed["broken"]["tools"] is None


def test_the_template_readme_names_the_entry_point_group() -> None:
    readme = (TEMPLATE / "README.md").read_text()
    assert "selectools.toolkits" in readme
    assert (
        textwrap.dedent('weather = "selectools_weather:WeatherToolkit"')
        in (TEMPLATE / "pyproject.toml").read_text()
    )
