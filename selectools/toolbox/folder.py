"""One folder the model may read from: every path is checked to stay inside it.

The model sends paths relative to the folder. Refused: absolute paths, `..`
that leaves the folder, symlinks (anywhere on the path) that point outside
it, hidden files and folders (`.env`, `.git`) unless allowed, and anything
that is not a regular file when a file is read (devices, FIFOs, sockets).
The check is made on the real path, and the file is then opened without
following a final symlink and checked again by its open handle, so a link
swapped in between is not followed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from ..tools.toolkit import RefusedError, ToolkitError

__all__ = ["Folder"]


class Folder:
    """A root folder and the rules for paths inside it."""

    def __init__(self, root: str | os.PathLike[str], *, allow_hidden: bool = False) -> None:
        real = Path(root).resolve(strict=True)
        if not real.is_dir():
            raise ValueError(f"{root} is not a folder.")
        self.root = real
        self.allow_hidden = allow_hidden

    def resolve(self, relative: str) -> Path:
        """The real path of `relative` inside the root, or RefusedError saying why not."""
        if "\x00" in relative:
            raise RefusedError("Paths cannot contain NUL characters.")
        text = relative.strip() or "."
        pure = PurePosixPath(text.replace("\\", "/"))
        if pure.is_absolute() or (len(text) > 1 and text[1] == ":"):
            raise RefusedError(
                f"{relative!r} is absolute. Paths are relative to the folder, "
                f"e.g. 'reports/q1.csv'."
            )
        if not self.allow_hidden and any(
            part.startswith(".") and part not in (".", "..") for part in pure.parts
        ):
            raise RefusedError(f"{relative!r} is hidden; hidden files and folders are not shared.")
        real = (self.root / pure).resolve()
        if real != self.root and self.root not in real.parents:
            raise RefusedError(f"{relative!r} is outside the folder this tool may read.")
        return real

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."

    def open_file(self, relative: str) -> tuple[int, os.stat_result]:
        """An open descriptor of a regular file inside the root, and its stat."""
        real = self.resolve(relative)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(real, flags)
        except FileNotFoundError:
            raise ToolkitError(
                f"No file {relative!r} in the folder. List the files first."
            ) from None
        except IsADirectoryError:
            raise ToolkitError(f"{relative!r} is a folder; list it instead.") from None
        except OSError as exc:
            raise RefusedError(f"{relative!r} cannot be opened ({exc.strerror}).") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise RefusedError(f"{relative!r} is not a regular file.")
        if not self._handle_inside(fd):
            os.close(fd)
            raise RefusedError(f"{relative!r} is outside the folder this tool may read.")
        return fd, info

    def _handle_inside(self, fd: int) -> bool:
        """Where the open handle really points (Linux /proc), checked against the root."""
        link = f"/proc/self/fd/{fd}"
        if not os.path.exists(link):
            return True  # no /proc: the real-path check and O_NOFOLLOW stand alone
        target = Path(os.readlink(link))
        return self.root == target or self.root in target.parents

    def walk(self, relative: str, *, recursive: bool) -> Iterator[Path]:
        """Entries under a folder, hidden ones skipped, symlinks never followed into."""
        start = self.resolve(relative)
        if not start.is_dir():
            raise ToolkitError(f"{relative!r} is not a folder in the shared folder.")
        pending = [start]
        while pending:
            current = pending.pop(0)
            try:
                entries = sorted(os.scandir(current), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if not self.allow_hidden and entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                yield path
                if recursive and entry.is_dir(follow_symlinks=False):
                    pending.append(path)
