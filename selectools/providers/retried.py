"""The four Provider calls for a provider on an official SDK, each attempt retried by one layer.

OpenAI, Anthropic and Bedrock turn off their SDK's own retries and route
every attempt through `self.retry` (a `Retry` policy) when set. A subclass
names its extra in `_check_installed` and makes one attempt in each `_*_once`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

from .base import ModelRequest, ModelResponse, TextChunk

if TYPE_CHECKING:
    from ..policies.retry import Retry

__all__ = ["RetriedCalls"]


class RetriedCalls:
    """`complete`/`acomplete`/`stream`/`astream` over one attempt each, retried when set."""

    name: str
    retry: Retry | None

    def _check_installed(self) -> None:
        raise NotImplementedError

    def _complete_once(self, request: ModelRequest) -> ModelResponse:
        raise NotImplementedError

    async def _acomplete_once(self, request: ModelRequest) -> ModelResponse:
        raise NotImplementedError

    def _stream_once(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        raise NotImplementedError

    def _astream_once(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        raise NotImplementedError

    def complete(self, request: ModelRequest) -> ModelResponse:
        self._check_installed()
        if self.retry is None:
            return self._complete_once(request)
        return self.retry.call(self._complete_once, request, self.name)

    async def acomplete(self, request: ModelRequest) -> ModelResponse:
        self._check_installed()
        if self.retry is None:
            return await self._acomplete_once(request)
        return await self.retry.acall(self._acomplete_once, request, self.name)

    def stream(self, request: ModelRequest) -> Iterator[TextChunk | ModelResponse]:
        self._check_installed()
        if self.retry is None:
            return self._stream_once(request)
        return self.retry.stream(self._stream_once, request, self.name)

    def astream(self, request: ModelRequest) -> AsyncIterator[TextChunk | ModelResponse]:
        self._check_installed()
        if self.retry is None:
            return self._astream_once(request)
        return self.retry.astream(self._astream_once, request, self.name)
