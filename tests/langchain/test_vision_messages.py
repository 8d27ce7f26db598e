"""Images survive the trip to LangChain messages and back (standard content blocks)."""

from __future__ import annotations

import base64

import pytest
from langchain_core.messages import HumanMessage

from selectools import ContentPart, InvalidInputError, Message
from selectools_langchain.messages import from_langchain_message, to_langchain_messages

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(32))


def test_images_and_files_round_trip_through_langchain() -> None:
    message = Message.user(
        [
            "look",
            ContentPart.image(data=PNG),
            ContentPart.image(url="https://example.com/a.png"),
            ContentPart.file(data=b"%PDF-1.7", filename="a.pdf"),
        ]
    )
    (converted,) = to_langchain_messages([message])
    assert isinstance(converted, HumanMessage)
    assert converted.content[1] == {
        "type": "image",
        "base64": base64.b64encode(PNG).decode(),
        "mime_type": "image/png",
    }
    assert from_langchain_message(converted) == message


def test_openai_and_legacy_langchain_blocks_are_read() -> None:
    data = base64.b64encode(PNG).decode()
    message = from_langchain_message(
        HumanMessage(
            content=[
                {"type": "text", "text": "a"},
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
                {"type": "image", "source_type": "base64", "data": data, "mime_type": "image/png"},
            ]
        )
    )
    assert [p.raw_bytes() for p in message.parts[1:]] == [PNG, PNG]


def test_a_block_without_data_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="mime_type"):
        from_langchain_message(HumanMessage(content=[{"type": "file", "url": "https://x/a.pdf"}]))
