"""`import selectools` stays light; a missing extra names what to install."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import selectools

HEAVY = [
    "openai",
    "fastapi",
    "flask",
    "langchain_core",
    "sqlalchemy",
    "chromadb",
    "boto3",
    "redis",
    "mcp",
    "httpx",
    "watchfiles",
    "pint",
    "jmespath",
    "regex",
    "bs4",
    "openpyxl",
    "tenacity",
    "limits",
]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )


def test_import_pulls_in_no_sdk_or_framework() -> None:
    out = run_python(
        f"""
        import sys, selectools
        print([m for m in {HEAVY!r} + ["genai_prices", "pydantic"] if m in sys.modules])
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_policies_composition_and_loading_load_on_first_use() -> None:
    out = run_python(
        """
        import sys, selectools
        lazy = ["selectools.policies.quota", "selectools.policies.retry",
                "selectools.policies.cache", "selectools.tools.loading",
                "selectools.tools.compose", "hashlib", "pathlib"]
        print([m for m in lazy if m in sys.modules])
        from selectools import compose, load_tools
        from selectools.policies import Quota, Retry
        print(compose.__module__, load_tools.__module__, Quota.__module__, Retry.__module__)
        """
    )
    assert out.returncode == 0, out.stderr
    before, names = out.stdout.strip().splitlines()
    assert before == "[]"
    assert names == (
        "selectools.tools.compose selectools.tools.loading "
        "selectools.policies.quota selectools.policies.retry"
    )


# What `import selectools` leaves for first use: each provider's module, approval's
# records, stores and policy, and the standard library the sync path never needs.
LAZY_MODULES = [
    "selectools.providers.anthropic",
    "selectools.providers.bedrock",
    "selectools.providers.openai",
    "selectools.providers.fallback",
    "selectools.providers.scripted",
    "selectools.providers.recording",
    "selectools.approval.records",
    "selectools.approval.stores",
    "selectools.approval.policy",
    "selectools.approval.errors",
    "asyncio",
    "concurrent.futures",
    "logging",
    "ssl",
    "typing_extensions",
    "datetime",
]


def test_providers_approval_and_asyncio_load_on_first_use() -> None:
    out = run_python(
        f"""
        import sys, selectools
        print([m for m in {LAZY_MODULES!r} if m in sys.modules])
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_lazy_names_are_the_real_objects_and_listed() -> None:
    out = run_python(
        """
        import selectools, selectools.approval, selectools.providers
        from selectools import OutputValidationError, Reply, ScriptedProvider, call
        from selectools.approval import RequireApproval, approval_store_for
        from selectools.providers import FallbackProvider, RecordingProvider
        from selectools.providers.anthropic import AnthropicProvider

        assert selectools.AnthropicProvider is AnthropicProvider
        for name in ("AnthropicProvider", "BedrockProvider", "OpenAIProvider", "ScriptedProvider",
                     "Reply", "call", "OutputValidationError", "compose", "Agent", "tool"):
            assert name in dir(selectools), name
            assert name in selectools.__all__, name
        for name in ("FallbackProvider", "RecordingProvider", "ModelRequest"):
            assert name in dir(selectools.providers), name
        for name in ("RequireApproval", "Decision", "InMemoryApprovalStore"):
            assert name in dir(selectools.approval), name
        print(selectools.OpenAIProvider.__module__, selectools.BedrockProvider.__module__,
              ScriptedProvider.__module__, FallbackProvider.__module__,
              RequireApproval.__module__, OutputValidationError.__module__)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [
        "selectools.providers.openai",
        "selectools.providers.bedrock",
        "selectools.providers.scripted",
        "selectools.providers.fallback",
        "selectools.approval.policy",
        "selectools.structured",
    ]


def test_a_sync_run_and_a_pause_for_approval_work_from_a_lean_import() -> None:
    out = run_python(
        """
        import sys
        import selectools as s

        @s.tool(requires_approval=True)
        def refund(order_id: int) -> str:
            'Refund an order.'
            return f"refunded {order_id}"

        agent = s.Agent([refund], s.ScriptedProvider([s.call("refund", order_id=7), "done"]))
        paused = agent.run("refund 7")
        print(paused.status, "selectools.approval.stores" in sys.modules)
        print(agent.resume(paused.approval_id, True).text)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["awaiting_approval", "True", "done"]


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import selectools
    import selectools.approval
    import selectools.policies
    import selectools.providers

    with pytest.raises(AttributeError, match="Nope"):
        _ = selectools.Nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="Nope"):
        _ = selectools.policies.Nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="Nope"):
        _ = selectools.providers.Nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="Nope"):
        _ = selectools.approval.Nope  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("blocked", "code", "extra"),
    [
        ("sqlalchemy", "from selectools.sessions import SQLAlchemySessionStore as S; S()", "sql"),
        (
            "openai",
            "import selectools as s; s.Agent(provider=s.OpenAIProvider(api_key='k')).run('x')",
            "openai",
        ),
        (
            "tenacity",
            "import selectools as s; from selectools.policies import Retry\n"
            "s.Agent(provider=s.ScriptedProvider(['x']), policies=[Retry()]).run('x')",
            "resilience",
        ),
        (
            "limits",
            "from selectools.policies import RateLimiter; RateLimiter('1/second')",
            "resilience",
        ),
    ],
)
def test_missing_extra_names_the_install_command(blocked: str, code: str, extra: str) -> None:
    out = run_python(f"import sys; sys.modules[{blocked!r}] = None\n{code}")
    assert out.returncode != 0
    assert f'pip install -e ".[{extra}]"' in out.stderr
    assert "MissingDependencyError" in out.stderr


def test_missing_dependency_error_is_an_import_error() -> None:
    from selectools import MissingDependencyError

    assert issubclass(MissingDependencyError, ImportError)


def test_the_fastapi_adapter_loads_jobs_when_a_router_is_built() -> None:
    pytest.importorskip("fastapi")
    out = run_python(
        """
        import sys
        import selectools_fastapi
        before = "selectools.jobs" in sys.modules
        from selectools import Agent, ScriptedProvider
        router = selectools_fastapi.AgentRouter(Agent([], ScriptedProvider(["hi"])))
        paths = sorted(r.path for r in router.routes if "/jobs" in r.path)
        print(before, "selectools.jobs" in sys.modules, paths)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split(" ", 2)[:2] == ["False", "True"]
    assert "/jobs/{job_id}" in out.stdout


def _packages_with_lazy_exports() -> list[Path]:
    root = Path(selectools.__file__).parent
    return [
        init
        for init in sorted(root.rglob("__init__.py"))
        if "__getattr__" in _runtime_names(ast.parse(init.read_text()))
    ]


def _runtime_names(tree: ast.Module) -> set[str]:
    """Names a module binds at run time at its top level (inside `if not TYPE_CHECKING:` too)."""
    bound: set[str] = set()
    for node in tree.body:
        body = [node]
        if isinstance(node, ast.If) and isinstance(node.test, ast.UnaryOp):
            body = node.body  # `if not TYPE_CHECKING:`
        for statement in body:
            if isinstance(statement, ast.FunctionDef):
                bound.add(statement.name)
            elif isinstance(statement, ast.Assign):
                for target in statement.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    bound.update(n.id for n in names if isinstance(n, ast.Name))
    return bound


def _names_type_checkers_see(tree: ast.Module) -> set[str]:
    """Names bound at module level, including imports under `if TYPE_CHECKING:`
    (never the imports inside `__getattr__`, which type checkers do not follow)."""
    seen: set[str] = set()
    statements = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name):
            if node.test.id == "TYPE_CHECKING":
                statements.extend(node.body)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            seen.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            seen.add(node.name)
        elif isinstance(node, ast.Assign):
            seen.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return seen


def _binds_getattr_for_type_checkers(tree: ast.Module) -> bool:
    module_level = [node for node in tree.body if not isinstance(node, ast.If)]
    return "__getattr__" in _runtime_names(ast.Module(body=module_level, type_ignores=[]))


def _exported(tree: ast.Module) -> list[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                assert node.value is not None
                value = ast.literal_eval(node.value)
                return list(value)
    return []


@pytest.mark.parametrize("init", _packages_with_lazy_exports(), ids=lambda p: str(p.parent.name))
def test_every_lazily_loaded_name_is_visible_to_type_checkers(init: Path) -> None:
    """Type checkers see the real lazy names and only those: each is imported under
    TYPE_CHECKING (OpenTelemetry was `object`, the `__getattr__` return type), and
    `__getattr__` exists only at run time (a misspelled import was `Any`, no error)."""
    tree = ast.parse(init.read_text())
    assert not _binds_getattr_for_type_checkers(tree), (
        f"{init}: define __getattr__ under `if not TYPE_CHECKING:`, or type checkers "
        f"accept any misspelled import from it as Any"
    )
    exported = _exported(tree)
    assert exported, f"{init} exports nothing through __all__"
    missing = sorted(set(exported) - _names_type_checkers_see(tree))
    assert not missing, f"{init}: {missing} load lazily but type checkers cannot see them"


OFF_BY_DEFAULT = [  # serving features an app turns on, and what they load
    "selectools.serving.builder",
    "selectools.spec",
    "selectools.guardrails",
    "selectools.policies.quota",
    "selectools.policies.ratelimit",
    "selectools.batch",
]
UNUSED_BY_DEFAULT = OFF_BY_DEFAULT[:3]  # a router's jobs routes load limits and batch


def test_the_fastapi_adapter_loads_off_by_default_features_only_when_used() -> None:
    pytest.importorskip("fastapi")
    out = run_python(
        f"""
        import sys
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from selectools import Agent, ScriptedProvider
        from selectools_fastapi import AgentRouter, ServingOptions

        def loaded(modules):
            return [m for m in modules if m in sys.modules]

        print(loaded({OFF_BY_DEFAULT!r}))
        app = FastAPI()
        app.include_router(AgentRouter(Agent([], ScriptedProvider(["hi"], cycle=True))))
        client = TestClient(app)
        assert client.post("/invoke", json={{"input": "x"}}).status_code == 200
        assert client.post("/stream", json={{"input": "x"}}).status_code == 200
        print(loaded({UNUSED_BY_DEFAULT!r}))
        from selectools.guardrails import Guardrails, MaxLength

        options = ServingOptions(builder=True)
        agent = Agent([], ScriptedProvider(["hi"]), policies=[Guardrails(MaxLength(10))])
        app.include_router(AgentRouter(agent, options=options), prefix="/built")
        assert client.get("/built/builder/catalog").status_code == 200
        assert client.post("/built/stream", json={{"input": "x" * 11}}).status_code == 422
        print(loaded({UNUSED_BY_DEFAULT!r}))
        """
    )
    assert out.returncode == 0, out.stderr
    at_import, after_runs, used = out.stdout.splitlines()
    assert at_import == after_runs == "[]"
    assert used == str(UNUSED_BY_DEFAULT)


def test_fastapi_body_models_are_built_with_the_router_not_at_the_first_request() -> None:
    """The request bodies load deferred; a router builds them before FastAPI wraps them,
    or FastAPI's own adapter defers too and warns at the first request."""
    pytest.importorskip("fastapi")
    out = run_python(
        """
        import warnings
        warnings.simplefilter("error")  # a warning at the first request fails it
        from fastapi import FastAPI
        from fastapi.testclient import TestClient
        from selectools import Agent, ScriptedProvider
        from selectools.serving import wire
        from selectools_fastapi import AgentRouter

        print(wire.InvokeRequest.__pydantic_complete__)
        app = FastAPI()
        app.include_router(AgentRouter(Agent([], ScriptedProvider(["hi"], cycle=True))))
        print(wire.InvokeRequest.__pydantic_complete__)
        client = TestClient(app)
        user = {"role": "user", "content": "x"}
        answers = [
            client.post("/invoke", json={"input": "x"}),
            client.post("/batch", json={"inputs": [{"input": "x"}]}),
            client.post("/v1/chat/completions", json={"messages": [user]}),
            client.post("/approvals/apr_" + "0" * 32, json={"approve": True}),
            client.post("/invoke", json={"input": 3}),
        ]
        print([a.status_code for a in answers])
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["False", "True", "[200, 200, 200, 404, 422]"]


def test_a_lazy_submodule_is_the_module_and_listed() -> None:
    out = run_python(
        """
        import sys
        import selectools.serving as serving
        print("selectools.serving.builder" in sys.modules, "builder" in dir(serving))
        print(serving.builder is sys.modules["selectools.serving.builder"])
        from selectools.serving import builder
        print(builder is serving.builder)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "True", "True"]
