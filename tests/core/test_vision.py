"""Images and files in messages: one shape, kept everywhere, never silently dropped."""

from __future__ import annotations

import base64

import pytest

from selectools import (
    Agent,
    ContentPart,
    ConversationMemory,
    InvalidInputError,
    Message,
    OpenAIProvider,
    ScriptedProvider,
)
from selectools.content import IMAGE_TOKENS, UnsupportedContentError
from selectools.memory import approx_tokens
from tests.fakes.openai_server import FakeOpenAIServer, FakeReply

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PNG_B64 = base64.b64encode(PNG).decode()
PDF = b"%PDF-1.4\n" + b"x" * 100


def photo_question() -> Message:
    return Message.user(
        [
            "What is in ",
            ContentPart.image(data=PNG),
            " and here?",
            ContentPart.image(url="https://example.com/cat.jpg", detail="low"),
        ]
    )


def test_parts_keep_order_and_text_is_the_content() -> None:
    message = photo_question()
    assert message.content == "What is in  and here?"
    assert [p.type for p in message.parts] == ["text", "image", "text", "image"]
    assert message.parts[1].media_type == "image/png"  # sniffed from the bytes
    assert message.parts[1].raw_bytes() == PNG
    assert message.has_media


def test_openai_shape_round_trips_exactly() -> None:
    message = photo_question()
    data = message.to_dict()
    assert data["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{PNG_B64}"},
    }
    assert data["content"][3]["image_url"] == {
        "url": "https://example.com/cat.jpg",
        "detail": "low",
    }
    assert Message.from_dict(data) == message


def test_anthropic_shaped_parts_are_understood() -> None:
    message = Message.from_dict(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "read"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
                },
                {
                    "type": "document",
                    "source": {
                        "type": "base64",
                        "media_type": "application/pdf",
                        "data": base64.b64encode(PDF).decode(),
                    },
                },
            ],
        }
    )
    assert [p.type for p in message.parts] == ["text", "image", "file"]
    assert message.parts[2].raw_bytes() == PDF
    assert message.parts[2].media_type == "application/pdf"


def test_text_only_parts_collapse_to_plain_content() -> None:
    message = Message.from_dict(
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    )
    assert message == Message.user("ab")


@pytest.mark.parametrize(
    ("part", "says"),
    [
        (
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
            "not supported",
        ),
        ({"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}, r"http\(s\) or a base64"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "not valid"),
        ({"type": "image_url"}, "needs 'image_url'"),
        ({"type": "file", "file": {"file_id": "file-abc"}}, "file ids"),
        ({"type": "image", "source": {"type": "base64", "data": PNG_B64}}, "media_type"),
    ],
)
def test_parts_we_cannot_carry_are_errors_not_drops(part: dict[str, object], says: str) -> None:
    with pytest.raises(InvalidInputError, match=says):
        Message.from_dict({"role": "user", "content": [{"type": "text", "text": "x"}, part]})


def test_bytes_of_unknown_type_need_a_media_type() -> None:
    with pytest.raises(InvalidInputError, match="media_type"):
        ContentPart.image(data=b"not an image")
    with pytest.raises(InvalidInputError, match="image/"):
        ContentPart.image(data=PDF, media_type="application/pdf")


def test_a_url_image_has_no_bytes_to_give_a_provider_that_needs_them() -> None:
    with pytest.raises(UnsupportedContentError, match="Download it"):
        ContentPart.image(url="https://example.com/a.png").raw_bytes()


def test_images_count_toward_the_token_estimate_and_the_window() -> None:
    text_only = Message.user("What is in  and here?")
    assert approx_tokens(photo_question()) == approx_tokens(text_only) + 2 * IMAGE_TOKENS
    # (the first question is not pinned as the goal here, so the window may drop it)
    memory = ConversationMemory(max_tokens=IMAGE_TOKENS + 200, pin_first_user=False)
    kept = memory.window([photo_question(), Message.assistant("a cat"), Message.user("thanks")])
    assert photo_question() not in kept  # two images do not fit: the oldest turn goes


def test_scripted_usage_counts_images() -> None:
    provider = ScriptedProvider(["ok", "ok"])
    agent = Agent(provider=provider)
    plain = agent.run("What is in  and here?").usage.input_tokens
    with_images = agent.run([photo_question()]).usage.input_tokens
    assert with_images - plain == 2 * IMAGE_TOKENS


def test_images_reach_an_openai_server_intact(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="a cat"))
    agent = Agent(
        provider=OpenAIProvider("gpt-4o-mini", base_url=openai_server.base_url, max_retries=0)
    )
    result = agent.run([photo_question()])
    assert result.text == "a cat"
    sent = openai_server.requests[0]["messages"][-1]["content"]
    assert sent == photo_question().to_dict()["content"]
    assert base64.b64decode(sent[1]["image_url"]["url"].split(",", 1)[1]) == PNG


def test_pdf_files_reach_an_openai_server_as_file_parts(openai_server: FakeOpenAIServer) -> None:
    openai_server.add(FakeReply(text="one page"))
    agent = Agent(provider=OpenAIProvider(base_url=openai_server.base_url, max_retries=0))
    part = ContentPart.file(data=PDF, filename="report.pdf")
    agent.run([Message.user(["Summarise", part])])
    sent = openai_server.requests[0]["messages"][-1]["content"][1]
    assert sent["type"] == "file"
    assert sent["file"]["filename"] == "report.pdf"
    assert (
        sent["file"]["file_data"] == "data:application/pdf;base64," + base64.b64encode(PDF).decode()
    )


def test_images_are_kept_in_the_session_history() -> None:
    provider = ScriptedProvider(["a cat", "yes"])
    agent = Agent(provider=provider)
    agent.run([photo_question()], session_id="s1")
    agent.run("Is it cute?", session_id="s1")
    seen = provider.requests[1].messages
    assert seen[0] == photo_question()
