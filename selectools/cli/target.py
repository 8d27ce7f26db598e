"""Find what a command serves or runs: 'module:name', 'path/to/file.py:name' or a spec file.

Kept free of click so it is easy to test and reuse; every failure is a
`TargetError` whose message says what was looked for and what to try.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from ..agent import Agent
from ..errors import SelectoolsError

__all__ = ["SPEC_SUFFIXES", "TargetError", "is_asgi_app", "is_wsgi_app", "load", "load_agent"]

SPEC_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


class TargetError(SelectoolsError, ValueError):
    """The AGENT argument does not name something that can be loaded."""


def load(target: str) -> Any:
    """The object `target` names: an Agent, a factory's Agent, or a web app (served as is)."""
    source, _, name = target.rpartition(":") if ":" in target else (target, "", "")
    if not name and Path(source).suffix.lower() in SPEC_SUFFIXES:
        return _from_spec(Path(source))
    module = _import(source, target)
    found: Any = module
    for part in (name or "agent").split("."):
        if not hasattr(found, part):
            raise TargetError(_missing(module, name or "agent", target))
        found = getattr(found, part)
    return _resolve(found, target)


def load_agent(target: str) -> Agent:
    """Like `load`, but the target must be an Agent (or a function returning one)."""
    found = load(target)
    if not isinstance(found, Agent):
        raise TargetError(
            f"{target!r} is a {type(found).__name__}, not an Agent. Point at the Agent "
            "itself (for example 'examples/fastapi_app.py:agent')."
        )
    return found


def is_asgi_app(obj: Any) -> bool:
    """A Starlette/FastAPI app or another ASGI callable (scope, receive, send)."""
    if hasattr(obj, "router") and hasattr(obj, "middleware_stack"):
        return True
    call = getattr(obj, "__call__", None)  # noqa: B004  (the signature is what matters)
    if not inspect.iscoroutinefunction(obj) and not inspect.iscoroutinefunction(call):
        return False
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return False
    return len(params) == 3


def is_wsgi_app(obj: Any) -> bool:
    """A Flask app (anything with Flask's `wsgi_app` and `run`)."""
    return hasattr(obj, "wsgi_app") and hasattr(obj, "run")


def _resolve(found: Any, target: str) -> Any:
    if isinstance(found, Agent) or is_asgi_app(found) or is_wsgi_app(found):
        return found
    if callable(found) and not inspect.isclass(found):
        try:
            made = found()
        except TypeError as exc:
            raise TargetError(
                f"{target!r} is a function, so it was called without arguments to build "
                f"the agent, and failed: {exc}"
            ) from None
        if isinstance(made, Agent) or is_asgi_app(made) or is_wsgi_app(made):
            return made
        raise TargetError(f"{target!r} returned a {type(made).__name__}, not an Agent.")
    raise TargetError(
        f"{target!r} is a {type(found).__name__}; expected an Agent, a function returning "
        "one, or a FastAPI/Flask app."
    )


def _import(source: str, target: str) -> ModuleType:
    if not source:
        raise TargetError(f"{target!r} names no module: use 'module:agent' or 'file.py:agent'.")
    if source.endswith(".py") or os.sep in source or "/" in source:
        return _import_file(Path(source), target)
    if os.getcwd() not in sys.path:  # like `python -m`: modules next to you import
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(source)
    except ModuleNotFoundError as exc:
        if exc.name and source.startswith(exc.name):
            raise TargetError(
                f"No module named {source!r} (from {target!r}). Run from the folder that "
                "holds it, or give a file path such as 'app.py:agent'."
            ) from None
        raise


def _import_file(path: Path, target: str) -> ModuleType:
    if not path.is_file():
        raise TargetError(f"No file {str(path)!r} (from {target!r}).")
    path = path.resolve()
    name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules else None
    name = name or f"_selectools_target_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetError(f"{str(path)!r} cannot be imported as Python (from {target!r}).")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # as `python file.py` would: its neighbours import
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _missing(module: ModuleType, name: str, target: str) -> str:
    agents = sorted(k for k, v in vars(module).items() if isinstance(v, Agent))
    hint = f" Agents defined there: {', '.join(agents)}." if agents else ""
    return f"{module.__name__} has no {name!r} (from {target!r}).{hint}"


def _from_spec(path: Path) -> Agent:
    if not path.is_file():
        raise TargetError(f"No spec file {str(path)!r}.")
    from_spec = getattr(Agent, "from_spec", None)
    if from_spec is None:
        raise TargetError(
            f"{str(path)!r} looks like an agent spec file, but this version of selectools "
            "cannot read spec files yet. Point at an Agent instead: 'file.py:agent'."
        )
    folder = str(path.resolve().parent)
    if folder not in sys.path:  # its `module:name` references may live next to it
        sys.path.insert(0, folder)
    made = from_spec(path)
    if not isinstance(made, Agent):
        raise TargetError(f"{str(path)!r} did not describe an Agent.")
    return made
