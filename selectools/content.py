"""Content parts: text, images and files in one message, one shape for every provider.

A `Message` keeps its text in `content` (what every text-only reader sees) and,
when it carries an image or a file, the full ordered list in `parts`. Parts are
stored and sent on our wire in the OpenAI chat-completions shape; each provider
translates them to its own (Anthropic blocks, Bedrock Converse blocks). Parts
arrive in the OpenAI shape (`image_url`, `file`) or the Anthropic shape
(`image`, `document` with a `source`); a part type we cannot carry is an error,
never silently dropped.
"""

from __future__ import annotations

import base64 as b64
import binascii
import re
from collections.abc import Mapping
from typing import Any, Literal

from .errors import InvalidInputError
from .frozen import record

__all__ = [
    "FILE_TOKENS",
    "IMAGE_TOKENS",
    "ContentPart",
    "UnsupportedContentError",
    "parse_part",
    "parts_tokens",
]

IMAGE_TOKENS = 1_000
"""Estimated tokens per image (a ~1 megapixel image costs 765 at OpenAI, ~1,300 at Anthropic)."""
FILE_TOKENS = 1_500
"""Estimated tokens per file (a one-page PDF); larger files add a token per 3 bytes beyond ~4 KB."""

PartType = Literal["text", "image", "file"]
_DATA_URL = re.compile(
    r"^data:(?P<media>[\w.+-]+/[\w.+-]+)?(?:;[^,;]+)*;base64,(?P<data>.*)$", re.S
)


class UnsupportedContentError(InvalidInputError):
    """A provider cannot take a part (an image, a PDF, an image URL): HTTP 422, never dropped."""


@record
class ContentPart:
    """One piece of a message: text, an image (URL or base64 with its media type) or a file.

    Build them with `ContentPart.text_part("...")`, `ContentPart.image(url=...)`,
    `ContentPart.image(data=png_bytes, media_type="image/png")` or
    `ContentPart.file(data=pdf_bytes, media_type="application/pdf", filename="a.pdf")`.
    Binary data is kept as base64 text (`data`), so a part is JSON-ready.
    """

    type: PartType
    text: str | None = None
    url: str | None = None
    data: str | None = None
    media_type: str | None = None
    filename: str | None = None
    detail: str | None = None

    @classmethod
    def text_part(cls, text: str) -> ContentPart:
        return cls("text", text=text)

    @classmethod
    def image(
        cls,
        *,
        url: str | None = None,
        data: bytes | str | None = None,
        media_type: str | None = None,
        detail: str | None = None,
    ) -> ContentPart:
        """An image from an http(s) URL, a data: URL, raw bytes or base64 text."""
        url, encoded, media_type = _source(url, data, media_type, what="An image")
        if media_type is not None and not media_type.startswith("image/"):
            raise InvalidInputError(f"An image needs an image/* media type, got {media_type!r}.")
        return cls("image", url=url, data=encoded, media_type=media_type, detail=detail)

    @classmethod
    def file(
        cls,
        *,
        data: bytes | str | None = None,
        media_type: str | None = "application/pdf",
        filename: str | None = None,
        url: str | None = None,
    ) -> ContentPart:
        """A file (a PDF, say) as bytes, base64 text or a data: URL."""
        url, encoded, media_type = _source(url, data, media_type, what="A file")
        if encoded is None:
            raise InvalidInputError("A file part needs its data (bytes, base64 or a data: URL).")
        return cls("file", data=encoded, media_type=media_type, filename=filename)

    @property
    def is_media(self) -> bool:
        return self.type != "text"

    def data_url(self) -> str:
        """The part as a URL: its http(s) URL, or a data: URL of its bytes."""
        if self.url is not None:
            return self.url
        return f"data:{self.media_type or 'application/octet-stream'};base64,{self.data}"

    def raw_bytes(self) -> bytes:
        """The decoded bytes (only for parts given as data, not as an http URL)."""
        if self.data is None:
            raise UnsupportedContentError(
                f"This {self.type} is a URL ({self.url!r:.80}); the provider needs its bytes. "
                f"Download it and pass ContentPart.{self.type}(data=..., media_type=...)."
            )
        return b64.b64decode(self.data)

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI chat-completions content part (also our storage and wire shape)."""
        if self.type == "text":
            return {"type": "text", "text": self.text or ""}
        if self.type == "image":
            image: dict[str, Any] = {"url": self.data_url()}
            if self.detail is not None:
                image["detail"] = self.detail
            return {"type": "image_url", "image_url": image}
        file: dict[str, Any] = {"file_data": self.data_url()}
        if self.filename is not None:
            file["filename"] = self.filename
        return {"type": "file", "file": file}

    def tokens(self) -> int:
        """A rough token estimate for usage and windowing."""
        if self.type == "text":
            return len(self.text or "") // 4
        if self.type == "image":
            return IMAGE_TOKENS
        size = len(self.data or "") * 3 // 4
        return FILE_TOKENS + max(0, size - 4096) // 3


def parts_tokens(parts: tuple[ContentPart, ...]) -> int:
    """Estimated tokens of the media parts (text is counted with the message's content)."""
    return sum(part.tokens() for part in parts if part.is_media)


def parse_part(raw: Any) -> ContentPart:
    """A content part from its OpenAI or Anthropic dict shape (or a plain string)."""
    if isinstance(raw, ContentPart):
        return raw
    if isinstance(raw, str):
        return ContentPart.text_part(raw)
    if not isinstance(raw, Mapping):
        raise InvalidInputError(f"A content part must be an object, got {type(raw).__name__}.")
    kind = raw.get("type")
    if kind in ("text", "input_text"):
        text = raw.get("text")
        if not isinstance(text, str):
            raise InvalidInputError("A text content part needs 'text' as a string.")
        return ContentPart.text_part(text)
    if kind in ("image_url", "input_image"):
        image = raw.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        detail = image.get("detail") if isinstance(image, Mapping) else raw.get("detail")
        if not isinstance(url, str) or not url:
            raise InvalidInputError("An image_url part needs 'image_url': {'url': '...'}.")
        return ContentPart.image(url=url, detail=detail if isinstance(detail, str) else None)
    if kind == "file":
        file = raw.get("file")
        if not isinstance(file, Mapping) or not isinstance(file.get("file_data"), str):
            raise InvalidInputError(
                "A file part needs 'file': {'file_data': 'data:<type>;base64,...'} "
                "(file ids of an upstream's file store are not supported)."
            )
        filename = file.get("filename")
        return ContentPart.file(
            url=file["file_data"],
            media_type=None,
            filename=filename if isinstance(filename, str) else None,
        )
    if kind in ("image", "document"):  # the Anthropic shape
        return _from_source(kind, raw.get("source"))
    raise InvalidInputError(
        f"Content part type {kind!r} is not supported; use text, image_url or file "
        f"(or Anthropic's image and document)."
    )


def _from_source(kind: str, source: Any) -> ContentPart:
    if not isinstance(source, Mapping):
        raise InvalidInputError(f"An {kind} part needs a 'source' object.")
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        media = source.get("media_type")
        media = media if isinstance(media, str) else None
        if kind == "image":
            return ContentPart.image(data=source["data"], media_type=media)
        return ContentPart.file(data=source["data"], media_type=media)
    if kind == "image" and source.get("type") == "url" and isinstance(source.get("url"), str):
        return ContentPart.image(url=source["url"])
    raise InvalidInputError(
        f"An {kind} part's source must be base64 data with a media_type"
        f"{' or a url' if kind == 'image' else ''}."
    )


def _source(
    url: str | None, data: bytes | str | None, media_type: str | None, *, what: str
) -> tuple[str | None, str | None, str | None]:
    """Normalise to (http URL, None, type) or (None, base64, media type)."""
    if (url is None) == (data is None):
        raise InvalidInputError(f"{what} needs exactly one of url= or data=.")
    if url is not None:
        match = _DATA_URL.match(url)
        if match is None:
            if not url.startswith(("http://", "https://")):
                raise InvalidInputError(
                    f"{what} URL must be http(s) or a base64 data: URL, got {url[:40]!r}."
                )
            return url, None, media_type
        data = match["data"]
        media_type = match["media"] or media_type
    if isinstance(data, bytes):
        media_type = media_type or _sniff(data)
        if media_type is None:
            raise InvalidInputError(f"{what} given as bytes needs its media_type (image/png, ...).")
        return None, b64.b64encode(data).decode("ascii"), media_type
    assert data is not None
    compact = "".join(data.split())
    try:
        b64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"{what}'s data is not valid base64.") from None
    if media_type is None:
        raise InvalidInputError(f"{what} given as base64 needs its media_type (image/png, ...).")
    return None, compact, media_type


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


def _sniff(data: bytes) -> str | None:
    for magic, media_type in _MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
