"""Reading a request body under a byte limit, counted while it streams in.

A chunked upload with no Content-Length is refused as soon as it passes
`max_body_bytes`, never buffered first. Adapters feed their framework's body
chunks to `BodyBudget`; `parse` turns the bytes into a wire model or an
`InvalidRequestError` (422) that names each bad field. Parsing is strict
JSON: invalid UTF-8, lone surrogates and absurd nesting are 422s, not 500s.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import InvalidRequestError, RequestTooLargeError

__all__ = ["BodyBudget", "parse", "read_async", "read_sync", "refuse_duplicate_keys"]

Model = TypeVar("Model", bound=BaseModel)
CHUNK = 64 * 1024


class BodyBudget:
    """Counts body bytes against the limit and keeps them until the limit is passed."""

    def __init__(self, limit: int, declared: int | str | None = None) -> None:
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                raise InvalidRequestError(
                    "The Content-Length header is not a number.",
                    [{"loc": ["header", "content-length"], "message": "not a number"}],
                ) from None
            self._check(length)

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._check(self.size)
        self.chunks.append(chunk)

    def body(self) -> bytes:
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)

    def _check(self, size: int) -> None:
        if size > self.limit:
            raise RequestTooLargeError(
                f"The request body is over {self.limit} bytes (the limit). Send a shorter "
                f"input, or split it over several requests in one session."
            )


async def read_async(chunks: AsyncIterable[bytes], budget: BodyBudget) -> bytes:
    async for chunk in chunks:
        if chunk:
            budget.add(chunk)
    return budget.body()


def read_sync(read: Callable[[int], bytes], budget: BodyBudget) -> bytes:
    while chunk := read(CHUNK):
        budget.add(chunk)
    return budget.body()


def refuse_duplicate_keys(raw: bytes) -> None:
    """422 for a body that names a key twice: JSON readers disagree on which one counts
    (we read the last; a proxy's log or a review screen may show the first), so
    `{"approve": false, "approve": true}` must not mean one thing here and another there."""
    if raw.count(b'"') < 4:  # at most one key: nothing to repeat
        return

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise InvalidRequestError(
                    f"The request body names '{key[:64]}' twice; send each key once.",
                    [{"loc": ["body", key[:64]], "message": "Duplicate key"}],
                )
            seen[key] = value
        return seen

    try:
        json.loads(raw, object_pairs_hook=unique)
    except InvalidRequestError:
        raise
    except (ValueError, RecursionError):  # not JSON, or too deep: the model's own parse
        return  # says what is wrong


def parse(model: type[Model], raw: bytes) -> Model:
    """The body as `model`; an empty, malformed or ambiguous body is a 422 naming what to fix."""
    if not raw.strip():
        raise InvalidRequestError(
            "The request body is empty; send a JSON object.",
            [{"loc": ["body"], "message": "Field required"}],
        )
    refuse_duplicate_keys(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidRequestError.from_errors(
            exc.errors(include_url=False), prefix=("body",)
        ) from None
