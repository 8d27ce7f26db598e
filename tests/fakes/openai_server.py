"""The fake OpenAI server now ships with the package (`selectools.testing`); imported here
for the tests written before it moved."""

from __future__ import annotations

from selectools.testing.openai_server import (
    FakeOpenAIServer,
    FakeReply,
    completion,
    refused_url,
    stream_chunks,
)

__all__ = ["FakeOpenAIServer", "FakeReply", "completion", "refused_url", "stream_chunks"]
