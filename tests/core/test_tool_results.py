"""Every kind of value a tool may return reaches the model in the documented form."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import json
import uuid
from decimal import Decimal

from pydantic import BaseModel

from selectools import Agent, ScriptedProvider, call, tool
from selectools.tools import format_tool_result

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Color(enum.Enum):
    RED = "red"


class Address(BaseModel):
    city: str
    zip_code: str


@dataclasses.dataclass
class Order:
    id: int
    placed: datetime.date
    total: Decimal
    address: Address
    tags: set[str]
    color: Color


def test_a_pydantic_model_is_its_json() -> None:
    assert json.loads(format_tool_result(Address(city="Oslo", zip_code="0150"))) == {
        "city": "Oslo",
        "zip_code": "0150",
    }


def test_a_dataclass_is_its_fields_as_json_with_nested_values_encoded() -> None:
    order = Order(
        7,
        datetime.date(2026, 1, 2),
        Decimal("9.50"),
        Address(city="Oslo", zip_code="1"),
        {"gift"},
        Color.RED,
    )
    assert json.loads(format_tool_result(order)) == {
        "id": 7,
        "placed": "2026-01-02",
        "total": "9.50",
        "address": {"city": "Oslo", "zip_code": "1"},
        "tags": ["gift"],
        "color": "red",
    }


def test_json_values_keep_their_unicode_and_uuids_are_strings() -> None:
    key = uuid.UUID(int=5)
    assert json.loads(format_tool_result({"name": "Zoë", "key": key})) == {
        "name": "Zoë",
        "key": str(key),
    }
    assert "Zoë" in format_tool_result({"name": "Zoë"})


def test_utf8_bytes_are_text() -> None:
    assert format_tool_result("héllo".encode()) == "héllo"


def test_binary_bytes_are_described_never_pasted() -> None:
    data = bytes(range(256)) * 40
    note = json.loads(format_tool_result(data))
    assert note == {
        "type": "binary",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def test_image_bytes_are_described_with_their_media_type() -> None:
    assert json.loads(format_tool_result(PNG)) == {
        "type": "image",
        "media_type": "image/png",
        "size_bytes": len(PNG),
    }
    webp = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 10
    assert json.loads(format_tool_result(webp))["media_type"] == "image/webp"


def test_bytes_nested_in_a_result_are_handled_the_same_way() -> None:
    result = json.loads(format_tool_result({"thumbnail": PNG, "caption": b"a cat"}))
    assert result == {
        "thumbnail": {"type": "image", "media_type": "image/png", "size_bytes": len(PNG)},
        "caption": "a cat",
    }


def test_the_model_reads_the_rendering_through_a_real_run() -> None:
    @tool
    def find_order(order_id: int) -> Order:
        """Find an order."""
        return Order(
            order_id,
            datetime.date(2026, 3, 4),
            Decimal("1"),
            Address(city="Bergen", zip_code="5"),
            set(),
            Color.RED,
        )

    provider = ScriptedProvider([call("find_order", order_id=3), "done"])
    result = Agent([find_order], provider).run("where?")
    tool_message = provider.requests[-1].messages[-1]
    assert tool_message.role == "tool"
    assert json.loads(tool_message.content or "")["address"] == {"city": "Bergen", "zip_code": "5"}
    assert result.tool_calls[0].result.id == 3  # the Python value stays available to the caller
