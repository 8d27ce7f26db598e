"""Tools from a module, a file or a folder; reloaded into a live agent when files change.

`load_tools("myapp.tools")`, `load_tools("tools/weather.py")` or
`load_tools("tools/")` returns the tools those modules define: every
module-level `Tool` and the tools of every module-level `Toolkit` instance
(only the names in `__all__` when the module has one). Loading runs the
module's code, like an import: load only code you trust.

`ToolLoader` adds what it loads to an agent's `ToolSet` and remembers which
file each tool came from; `loader.watch()` (development only, needs
`pip install -e ".[reload]"`) reloads a file when it changes, adds the
tools of new files in a loaded folder and removes those of deleted ones. Each
change is applied to the tool set at once, so a run sees the tools from
before or after a reload, never half of it, and a run already going keeps the
set it started with. A file that fails to load leaves its previous tools in
place; the error is logged and kept in `loader.errors`.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType

from ..errors import SelectoolsError, ToolDefinitionError
from ..extras import require
from .tool import Tool, ToolSet
from .toolkit import Toolkit

__all__ = ["ToolLoadError", "ToolLoader", "ToolWatcher", "load_tools", "tools_in_module"]

logger = logging.getLogger("selectools.loading")


class ToolLoadError(SelectoolsError):
    """A module, file or folder of tools could not be loaded (the cause is chained)."""


def load_tools(source: str | Path | ModuleType) -> list[Tool]:
    """The tools of a module (object or dotted path), a `.py` file, or every `.py` in a folder."""
    return [tool for _, tools in _load(source) for tool in tools]


def tools_in_module(module: ModuleType) -> list[Tool]:
    """Module-level tools and the tools of module-level toolkit instances, in definition order."""
    names = getattr(module, "__all__", None)
    values = (
        [getattr(module, n) for n in names] if names is not None else list(vars(module).values())
    )
    found: dict[int, Tool] = {}
    for value in values:
        if isinstance(value, Tool):
            found.setdefault(id(value), value)
        elif isinstance(value, Toolkit) and not isinstance(value, type):
            for item in value.tools():
                found.setdefault(id(item), item)
    return list(found.values())


@dataclass
class _Source:
    """One loaded module: where its code is and which tools it gave."""

    path: Path
    module: ModuleType
    names: tuple[str, ...] = ()


@dataclass
class ToolLoader:
    """Loads tools into a `ToolSet` (e.g. `agent.tools`) and keeps them in step with their files."""

    tools: ToolSet
    errors: dict[Path, str] = field(default_factory=dict)
    _sources: dict[Path, _Source] = field(default_factory=dict, repr=False)
    _folders: set[Path] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self, source: str | Path | ModuleType) -> list[Tool]:
        """Load and add; a name already in the tool set is refused (ToolDefinitionError)."""
        loaded = _load(source)
        with self._lock:
            new = [tool for _, tools in loaded for tool in tools]
            clashes = [tool.name for tool in new if tool.name in self.tools]
            if clashes:
                raise ToolDefinitionError(
                    f"Tools named {', '.join(sorted(clashes))} are already in the tool set. "
                    f"Rename them, or remove the old ones first."
                )
            self.tools.change(replace=new)
            for module, tools in loaded:
                path = _module_path(module)
                self._sources[path] = _Source(path, module, tuple(t.name for t in tools))
            folder = _as_folder(source)
            if folder is not None:
                self._folders.add(folder)
        return new

    def reload(self, path: str | Path) -> list[Tool]:
        """Load one file again (or for the first time, inside a loaded folder) and sync its tools.

        A file that is gone takes its tools with it. A file that fails to load
        keeps its previous tools; the error is logged and kept in `errors`.
        """
        path = Path(path).resolve()
        with self._lock:
            source = self._sources.get(path)
            if not path.exists():
                if source is not None:
                    self.tools.change(remove=source.names)
                    del self._sources[path]
                self.errors.pop(path, None)
                return []
            if source is None and not any(_inside(path, folder) for folder in self._folders):
                return []
            try:
                module = _run_file(path, like=source.module if source is not None else None)
                tools = tools_in_module(module)
                owned = set(source.names) if source is not None else set()
                clashes = [t.name for t in tools if t.name in self.tools and t.name not in owned]
                if clashes:
                    raise ToolDefinitionError(
                        f"{path.name} defines {', '.join(sorted(clashes))}, which another "
                        f"source already provides. Rename them."
                    )
            except Exception as exc:
                self.errors[path] = f"{type(exc).__name__}: {exc}"
                logger.exception("reloading tools from %s failed; keeping the previous ones", path)
                return []
            names = tuple(t.name for t in tools)
            self.tools.change(replace=tools, remove=[n for n in owned if n not in names])
            self._sources[path] = _Source(path, module, names)
            self.errors.pop(path, None)
            logger.info("reloaded %d tools from %s", len(tools), path)
            return tools

    def watch(self, *, debounce_ms: int = 1600, force_polling: bool | None = None) -> ToolWatcher:
        """Reload files as they change, in a background thread, until `stop()` (development).

        Returns once the watcher is ready, so edits made after it returns are seen.
        """
        watcher = ToolWatcher(self, debounce_ms=debounce_ms, force_polling=force_polling)
        watcher.start()
        return watcher

    def watched_paths(self) -> list[Path]:
        """The folders to watch: loaded folders and the folders of loaded files."""
        with self._lock:
            folders = set(self._folders) | {s.path.parent for s in self._sources.values()}
        return sorted(folders)

    def is_relevant(self, path: Path) -> bool:
        return path.suffix == ".py" and (
            path in self._sources or any(_inside(path, f) for f in self._folders)
        )


class ToolWatcher:
    """A background thread reloading a `ToolLoader`'s files on change; a context manager."""

    def __init__(
        self, loader: ToolLoader, *, debounce_ms: int = 1600, force_polling: bool | None = None
    ) -> None:
        self.loader = loader
        self.debounce_ms = debounce_ms
        self.force_polling = force_polling
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="selectools-reload", daemon=True)

    def start(self) -> None:
        require("watchfiles", extra="reload", feature="Hot reload of tools")
        self._thread.start()
        if not self._ready.wait(30):
            self.stop()
            raise ToolLoadError("The file watcher did not start within 30 s.")
        if self._failure is not None:
            raise ToolLoadError(f"The file watcher failed to start: {self._failure}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(10)

    def __enter__(self) -> ToolWatcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        import watchfiles

        paths = self.loader.watched_paths()
        try:
            changes = watchfiles.watch(
                *paths,
                stop_event=self._stop,
                debounce=self.debounce_ms,
                rust_timeout=200,
                yield_on_timeout=True,  # the first (empty) yield says the watcher is ready
                force_polling=self.force_polling,
                raise_interrupt=False,
            )
            for batch in changes:
                self._ready.set()
                for path in sorted({Path(p).resolve() for _, p in batch}):
                    if self.loader.is_relevant(path):
                        self.loader.reload(path)
        except Exception as exc:  # a watcher that cannot run must say so, not die silently
            self._failure = exc
            logger.exception("the tool file watcher stopped")
        finally:
            self._ready.set()


# -- loading ------------------------------------------------------------------------


def _load(source: str | Path | ModuleType) -> list[tuple[ModuleType, list[Tool]]]:
    if isinstance(source, ModuleType):
        return [(source, tools_in_module(source))]
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        return [_load_file(p.resolve()) for p in files]
    if path.suffix == ".py" or path.exists():
        if not path.is_file():
            raise ToolLoadError(f"No tool file at {path}. Check the path.")
        return [_load_file(path.resolve())]
    return [_load_dotted(str(source))]


def _load_dotted(name: str) -> tuple[ModuleType, list[Tool]]:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ToolLoadError(
            f"Cannot import tools from {name!r} ({exc}). Give a dotted module path that is "
            f"importable, a .py file, or a folder."
        ) from exc
    return module, tools_in_module(module)


def _load_file(path: Path) -> tuple[ModuleType, list[Tool]]:
    try:
        module = _run_file(path)
    except Exception as exc:
        raise ToolLoadError(
            f"Loading tools from {path} failed: {type(exc).__name__}: {exc}"
        ) from exc
    return module, tools_in_module(module)


def _run_file(path: Path, like: ModuleType | None = None) -> ModuleType:
    """Run the file's current source in a fresh module; registered only once it ran.

    Fresh, so names deleted from the file are gone; from source, never from
    stale `__pycache__` bytecode (an edit within the same second is seen).
    `like` is the module being reloaded: the new one takes its name and package.
    """
    if like is not None:
        name = like.__name__
    else:
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
        name = f"_selectools_tools_{path.stem}_{digest}"
    module = ModuleType(name)
    module.__file__ = str(path)
    if like is not None:
        for attr in ("__package__", "__path__", "__spec__", "__loader__"):
            if hasattr(like, attr):
                setattr(module, attr, getattr(like, attr))
    code = compile(path.read_bytes(), str(path), "exec")
    previous = sys.modules.get(name)
    sys.modules[name] = module  # type hints and pickling look modules up by name
    try:
        exec(code, module.__dict__)
    except BaseException:
        if previous is not None:
            sys.modules[name] = previous
        else:
            sys.modules.pop(name, None)
        raise
    return module


def _module_path(module: ModuleType) -> Path:
    file = getattr(module, "__file__", None)
    if not file:
        raise ToolLoadError(f"Module {module.__name__} has no file to load or watch.")
    return Path(file).resolve()


def _as_folder(source: str | Path | ModuleType) -> Path | None:
    if isinstance(source, ModuleType):
        return None
    path = Path(source)
    return path.resolve() if path.is_dir() else None


def _inside(path: Path, folder: Path) -> bool:
    return path.parent == folder and not path.name.startswith("_")
