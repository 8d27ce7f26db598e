"""Read and list files under one folder, with size caps; nothing outside it is reachable."""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from ..tools.tool import Tool, method_tool
from ..tools.toolkit import RefusedError, Toolkit, ToolkitError
from .folder import Folder

__all__ = ["FileToolkit"]


class FileToolkit(Toolkit):
    """`list_files` and `read_file` under one folder fixed at construction (read-only).

    Args:
        root: the folder the model may read; paths are relative to it.
        max_bytes: most bytes one `read_file` call returns (it says when it cut).
        max_entries: most entries one `list_files` call returns.
        allow_hidden: also share hidden files and folders (`.env`, `.git`: off by default).
        name_prefix: put before the tool names (several folders in one agent).
    """

    name = "files"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_bytes: int = 100_000,
        max_entries: int = 200,
        allow_hidden: bool = False,
        name_prefix: str = "",
    ) -> None:
        self.folder = Folder(root, allow_hidden=allow_hidden)
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.name_prefix = name_prefix

    def tools(self) -> list[Tool]:
        return [
            method_tool(self.list_files, prefix=self.name_prefix),
            method_tool(self.read_file, prefix=self.name_prefix),
        ]

    def close(self) -> None:
        """Nothing to release: files are opened and closed per call."""

    def list_files(
        self, folder: str = ".", pattern: str = "*", recursive: bool = False
    ) -> dict[str, Any]:
        """List files and folders in the shared folder (paths relative to it).

        Args:
            folder: the folder to list, relative to the shared folder.
            pattern: a glob on the file name, e.g. '*.csv'.
            recursive: also list sub-folders' contents.
        """
        entries: list[dict[str, Any]] = []
        more = False
        for path in self.folder.walk(folder, recursive=recursive):
            if not fnmatch.fnmatch(path.name, pattern):
                continue
            if len(entries) == self.max_entries:
                more = True
                break
            try:
                info = path.lstat()
            except OSError:
                continue
            kind = "link" if path.is_symlink() else "folder" if path.is_dir() else "file"
            entries.append(
                {
                    "path": self.folder.relative(path),
                    "type": kind,
                    "bytes": info.st_size if kind == "file" else None,
                }
            )
        return {"entries": entries, "more": more}

    def read_file(self, path: str, offset: int = 0) -> dict[str, Any]:
        """Read a text file from the shared folder, up to the size limit, from a byte offset.

        Args:
            path: the file, relative to the shared folder.
            offset: the byte to start at (to continue a file that was cut).
        """
        if offset < 0:
            raise ToolkitError("offset must be 0 or more.")
        fd, info = self.folder.open_file(path)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            data = _read_up_to(fd, self.max_bytes + 1)
        finally:
            os.close(fd)
        if b"\x00" in data[:8192]:
            raise RefusedError(f"{path!r} is a binary file; only text files can be read.")
        cut = len(data) > self.max_bytes
        data = data[: self.max_bytes]
        text = data.decode("utf-8", "replace")
        answer: dict[str, Any] = {"path": path, "bytes": info.st_size, "text": text}
        if cut:
            answer["truncated"] = (
                f"Only bytes {offset} to {offset + len(data)} of {info.st_size} were read; "
                f"call again with offset={offset + len(data)} for more."
            )
        return answer


def _read_up_to(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
