"""What the model reads when a tool returns: one documented rendering per kind of value.

| the tool returns | the model reads |
|---|---|
| `str` | the text, as is |
| `dict`, `list`, numbers, `bool`, `None` | JSON (`ensure_ascii=False`) |
| a pydantic model | its JSON (`model_dump(mode="json")`) |
| a dataclass | its fields as JSON, nested dataclasses and models too |
| dates, `UUID`, `Decimal`, `Enum`, `set`, `Path` | JSON strings/lists, as pydantic encodes |
| `bytes` that are UTF-8 text | the text |
| image `bytes` (PNG, JPEG, GIF, WebP) | a note: `{"type": "image", "media_type", "size_bytes"}` |
| other `bytes` | a note: `{"type": "binary", "size_bytes", "sha256"}` |
| anything else | `str(value)` |

Binary data is described, never pasted: a base64 dump costs thousands of tokens
and tells a text model nothing. The note's `sha256` lets the model tell two
results apart or refer back to one.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

__all__ = ["format_tool_result", "sniff_image_type"]

_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def format_tool_result(value: Any) -> str:
    """Render a tool's return value as the text the model reads (see the module's table)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes_text(bytes(value))
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(mode="json")
    try:
        return json.dumps(value, ensure_ascii=False, default=_jsonable)
    except (TypeError, ValueError):
        return str(value)


def sniff_image_type(data: bytes) -> str | None:
    """The image media type of `data` from its first bytes, or None."""
    for signature, media_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _bytes_text(data: bytes) -> str:
    value = _bytes_value(data)
    return value if isinstance(value, str) else json.dumps(value)


def _bytes_value(data: bytes) -> str | dict[str, Any]:
    """UTF-8 text as text; an image or other binary data as a short note."""
    image_type = sniff_image_type(data)
    if image_type is not None:
        return {"type": "image", "media_type": image_type, "size_bytes": len(data)}
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        import hashlib

        return {
            "type": "binary",
            "size_bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }


def _jsonable(value: Any) -> Any:
    """`json.dumps`'s fallback: bytes as text or a note, dataclasses as their fields,
    then what pydantic knows how to encode (dates, UUIDs, enums...), else `str`."""
    if isinstance(value, bytes | bytearray | memoryview):
        return _bytes_value(bytes(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # json.dumps walks the fields and comes back here for the ones it cannot encode
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=str)
