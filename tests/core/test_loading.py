"""Loading tools from modules, files and folders, and reloading them when files change."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from selectools import Agent, ScriptedProvider, ToolDefinitionError, call
from selectools.tools.loading import ToolLoader, ToolLoadError, load_tools


def write(path: Path, source: str) -> Path:
    path.write_text(textwrap.dedent(source))
    return path


def greeter(greeting: str, name: str = "greet") -> str:
    return f'''
        from selectools import tool

        @tool
        def {name}(who: str) -> str:
            """Greet someone."""
            return "{greeting}, " + who
    '''


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def greet_once(agent: Agent, name: str = "greet") -> str:
    agent.provider = ScriptedProvider([call(name, who="Ada"), "ok"])
    return agent.run("hi").tool_calls[0].output


def test_load_a_file_a_folder_and_a_dotted_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "one.py", greeter("Hello", "greet_one"))
    folder = tmp_path / "more"
    folder.mkdir()
    write(folder / "two.py", greeter("Hi", "greet_two"))
    write(folder / "_private.py", greeter("Nope", "hidden"))
    write(folder / "notes.txt", "not python")
    package = tmp_path / "pkg"
    package.mkdir()
    write(package / "__init__.py", "")
    write(
        package / "kit.py",
        '''
        from selectools import Tool, Toolkit, tool

        @tool
        def exported(x: int) -> int:
            """Exported."""
            return x

        @tool
        def internal(x: int) -> int:
            """Not in __all__."""
            return x

        class Kit(Toolkit):
            name = "kit"

            def tools(self) -> list[Tool]:
                def from_kit(x: int) -> int:
                    """From a toolkit."""
                    return x + 1

                return [tool(from_kit)]

            def close(self) -> None:
                pass

        kit = Kit()
        __all__ = ["exported", "kit", "Kit"]
        ''',
    )
    monkeypatch.syspath_prepend(str(tmp_path))

    assert [t.name for t in load_tools(tmp_path / "one.py")] == ["greet_one"]
    assert [t.name for t in load_tools(folder)] == ["greet_two"]
    assert [t.name for t in load_tools("pkg.kit")] == ["exported", "from_kit"]
    [loaded] = load_tools(str(tmp_path / "one.py"))
    assert loaded(who="Ada") == "Hello, Ada"


def test_load_errors_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ToolLoadError, match="Cannot import tools from 'no_such_module_xyz'"):
        load_tools("no_such_module_xyz")
    with pytest.raises(ToolLoadError, match="No tool file"):
        load_tools(tmp_path / "missing.py")
    write(tmp_path / "broken.py", "def oops(:\n")
    with pytest.raises(ToolLoadError, match=r"broken\.py failed: SyntaxError"):
        load_tools(tmp_path / "broken.py")
    write(tmp_path / "untyped.py", greeter("x").replace("who: str", "who"))
    with pytest.raises(ToolLoadError, match="has no type hint"):
        load_tools(tmp_path / "untyped.py")


def test_loader_refuses_names_already_in_the_agent(tmp_path: Path) -> None:
    agent = Agent([], ScriptedProvider(["ok"]))
    loader = ToolLoader(agent.tools)
    loader.load(write(tmp_path / "a.py", greeter("Hello")))
    with pytest.raises(ToolDefinitionError, match="greet are already in the tool set"):
        loader.load(write(tmp_path / "b.py", greeter("Hi")))
    assert greet_once(agent) == "Hello, Ada"


def test_reload_swaps_keeps_on_error_adds_and_removes(tmp_path: Path) -> None:
    agent = Agent([], ScriptedProvider(["ok"]))
    loader = ToolLoader(agent.tools)
    tool_file = write(tmp_path / "greet.py", greeter("Hello"))
    loader.load(tmp_path)
    assert greet_once(agent) == "Hello, Ada"

    write(tool_file, greeter("Bonjour"))  # same size edits within a second are still seen
    loader.reload(tool_file)
    assert greet_once(agent) == "Bonjour, Ada"

    write(tool_file, "def broken(:\n")
    assert loader.reload(tool_file) == []
    assert "SyntaxError" in loader.errors[tool_file.resolve()]
    assert greet_once(agent) == "Bonjour, Ada"  # the last good version stays

    write(tool_file, greeter("Hallo", "greet_renamed"))
    loader.reload(tool_file)
    assert list(agent.tools) == ["greet_renamed"]  # the old name went with the old version
    assert loader.errors == {}

    extra = write(tmp_path / "extra.py", greeter("Hej", "greet_extra"))
    loader.reload(extra)
    assert greet_once(agent, "greet_extra") == "Hej, Ada"

    tool_file.unlink()
    loader.reload(tool_file)
    assert list(agent.tools) == ["greet_extra"]


def test_reload_refuses_to_take_over_a_name_from_elsewhere(tmp_path: Path) -> None:
    agent = Agent([], ScriptedProvider(["ok"]))
    loader = ToolLoader(agent.tools)
    first = write(tmp_path / "first.py", greeter("Hello", "greet"))
    second = write(tmp_path / "second.py", greeter("Hi", "other"))
    loader.load(tmp_path)
    write(second, greeter("Hi", "greet"))
    loader.reload(second)
    assert "first" not in loader.errors
    assert "another source already provides" in loader.errors[second.resolve()]
    assert greet_once(agent) == "Hello, Ada"
    assert first.exists()


def test_hot_reload_picks_up_an_edited_file(tmp_path: Path) -> None:
    pytest.importorskip("watchfiles", reason='hot reload needs: pip install -e ".[reload]"')
    agent = Agent([], ScriptedProvider(["ok"]))
    loader = ToolLoader(agent.tools)
    tool_file = write(tmp_path / "greet.py", greeter("Hello"))
    loader.load(tmp_path)
    with loader.watch(debounce_ms=200):
        write(tool_file, greeter("Bonjour"))
        wait_for(lambda: agent.tools["greet"](who="Ada") == "Bonjour, Ada", "the edit")
        assert greet_once(agent) == "Bonjour, Ada"

        write(tmp_path / "added.py", greeter("Hej", "greet_added"))
        wait_for(lambda: "greet_added" in agent.tools, "the new file")
        (tmp_path / "added.py").unlink()
        wait_for(lambda: "greet_added" not in agent.tools, "the deleted file")
