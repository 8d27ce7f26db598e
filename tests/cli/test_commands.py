"""Each command driven through click's CliRunner, as a user types it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from selectools.cli import COMMANDS, build

cli = build()


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input)
    return result.exit_code, result.output


def test_help_lists_every_command_with_a_summary() -> None:
    code, out = invoke("--help")
    assert code == 0
    for name in ("serve", "run", "chat", "tools", "demo"):
        assert f"  {name} " in out
    commands = out.split("Commands:", 1)[1]
    assert "..." not in commands  # summaries fit: none is cut mid-sentence
    assert len(COMMANDS) == len(cli.commands)


def test_each_command_has_usable_help() -> None:
    for name in cli.commands:
        code, out = invoke(name, "--help")
        assert code == 0, out
        assert f"Usage: cli {name}" in out or f"Usage: selectools {name}" in out
    _, serve_help = invoke("serve", "--help")
    options = ("--host", "--port", "--flask", "--reload", "--prefix", "--api-key")
    options += ("--no-playground",)
    for option in options:
        assert option in serve_help
    assert "base_url=http://127.0.0.1:8000/v1" in serve_help


def test_version() -> None:
    import selectools

    assert invoke("--version") == (0, f"selectools, version {selectools.__version__}\n")


def test_run_prints_tool_calls_then_the_answer(agent_file: Path) -> None:
    code, out = invoke("run", f"{agent_file}:agent", "order 7")
    assert code == 0, out
    assert out.splitlines() == [
        "-> get_order(order_id=7)",
        '   {"order_id": 7, "status": "shipped"}',
        'Found: {"order_id": 7, "status": "shipped"}',
    ]


def test_run_shows_a_failed_tool_call_as_an_error(agent_file: Path) -> None:
    code, out = invoke("run", f"{agent_file}:agent", "order 13")
    assert code == 0, out
    assert out.splitlines()[1].startswith("   error: ")
    assert "cursed" in out.splitlines()[1]


def test_run_json_is_the_whole_result(agent_file: Path) -> None:
    code, out = invoke("run", f"{agent_file}:agent", "order 7", "--json", "--session", "s-1")
    assert code == 0, out
    data = json.loads(out)
    assert data["session_id"] == "s-1"
    assert data["tool_calls"][0]["arguments"] == {"order_id": 7}
    assert data["output"].startswith("Found:")


def test_a_factory_is_called_and_a_module_path_imports_from_the_current_folder(
    agent_file: Path, monkeypatch: object
) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.chdir(agent_file.parent)
    code, out = invoke("run", "shopagent:make_agent", "hello")
    assert (code, out) == (0, "You said: hello\n")


def test_run_an_agent_spec_file(agent_file: Path) -> None:
    spec = agent_file.parent / "shop.yaml"
    spec.write_text(
        "name: shop\n"
        "provider: {factory: 'shopagent:make_provider'}\n"
        "tools:\n  - ref: 'shopagent:get_order'\n"
    )
    code, out = invoke("run", str(spec), "order 9")
    assert code == 0, out
    assert out.splitlines()[0] == "-> get_order(order_id=9)"


def test_bad_targets_say_what_to_do(agent_file: Path) -> None:
    cases = {
        f"{agent_file}:missing": "has no 'missing'",
        f"{agent_file}:not_an_agent": "is a int; expected an Agent",
        f"{agent_file.parent}/nope.py:agent": "No file",
        "no_such_module_xyz:agent": "No module named 'no_such_module_xyz'",
        ":agent": "names no module",
        f"{agent_file.parent}/agent.yaml": "No spec file",
    }
    for target, message in cases.items():
        code, out = invoke("run", target, "hi")
        assert code == 1, (target, out)
        assert out.startswith("Error: "), out
        assert message in out, (target, out)
        assert "Traceback" not in out
    _, out = invoke("run", f"{agent_file}:missing", "hi")
    assert "Agents defined there: agent." in out


def test_a_failing_run_exits_1_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text(
        "from selectools import Agent, AgentConfig, ScriptedProvider, call\n"
        "agent = Agent([], ScriptedProvider(responder=lambda r: call('x'), cycle=True),\n"
        "              config=AgentConfig(max_iterations=2))\n"
    )
    code, out = invoke("run", f"{tmp_path / 'broken.py'}:agent", "hi")
    assert code == 1
    assert out.startswith("Error: ")
    assert "Traceback" not in out


def test_chat_streams_keeps_the_session_and_ends_on_exit(agent_file: Path) -> None:
    code, out = invoke(
        "chat", f"{agent_file}:agent", input="hello\n\norder 5\nhistory\n/exit\nnever sent\n"
    )
    assert code == 0, out
    assert "Chatting with" in out
    assert "agent> You said: hello" in out
    assert "(calling get_order)" in out
    assert "-> get_order(order_id=5)" in out
    assert 'Found: {"order_id": 5, "status": "shipped"}' in out
    assert "hello | order 5 | history" in out  # one session: the agent saw the earlier turns
    assert "never sent" not in out


def test_chat_ends_cleanly_at_end_of_input(agent_file: Path) -> None:
    code, out = invoke("chat", f"{agent_file}:agent", input="hello\n")
    assert code == 0, out
    assert "You said: hello" in out


def test_chat_reports_a_failed_turn_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "flaky.py").write_text(
        "from selectools import Agent, ScriptedProvider\n"
        "def answer(request):\n"
        "    if request.messages[-1].content == 'boom':\n"
        "        raise TimeoutError('slow model')\n"
        "    return 'fine'\n"
        "agent = Agent([], ScriptedProvider(responder=answer))\n"
    )
    code, out = invoke("chat", f"{tmp_path / 'flaky.py'}:agent", input="boom\nagain\n")
    assert code == 0, out
    assert "error:" in out
    assert "agent> fine" in out


def test_tools_lists_installed_toolkits() -> None:
    code, out = invoke("tools")
    assert code == 0
    assert "toolbox  (selectools.toolbox:Toolbox" in out
    assert "- calculate" in out
    code, out = invoke("tools", "--json")
    assert code == 0
    assert "toolbox" in {entry["name"] for entry in json.loads(out)}


def test_python_dash_m_and_the_console_script_are_the_same_command() -> None:
    by_module = subprocess.run(
        [sys.executable, "-m", "selectools", "--help"], capture_output=True, text=True, check=True
    )
    script = Path(sys.executable).parent / "selectools"
    by_script = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert by_module.stdout.replace("python -m selectools", "selectools") == by_script.stdout
    assert "serve" in by_script.stdout


def test_import_selectools_does_not_import_click() -> None:
    code = "import sys, selectools; print('click' in sys.modules, 'selectools.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False False\n"
