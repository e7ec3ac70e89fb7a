"""Conversations given as ``messages=`` / ``history=``: text turns, multimodal turns in the
library's own part form and in OpenAI's, chat-UI (user, assistant) pairs, and the errors
that name the turn and the part."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from media_samples import pdf, png, wav

from llm_dispatch import Message, RequestBindingError, TaskType, llm_stream
from llm_dispatch.content import AudioPart, DocumentPart, ImagePart, TextPart
from llm_dispatch.conversation import coerce_messages
from llm_dispatch.testing import FakeProviderServer

WHERE = "chat()"


def turns(value: Any, name: str = "messages") -> tuple[tuple[Message, ...], str | None]:
    return coerce_messages(value, WHERE, name)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_text_turns_and_the_system_prompt() -> None:
    messages, system = turns(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [{"type": "text", "text": "Hello"}]},
            Message(role="user", content="And now?"),
            {"role": "system", "content": [{"type": "text", "text": "Use English."}]},
        ]
    )
    assert system == "Be brief.\n\nUse English."
    assert [(m.role, m.text) for m in messages] == [
        ("user", "Hi"),
        ("assistant", "Hello"),
        ("user", "And now?"),
    ]


def test_media_parts_in_the_librarys_form_and_in_openais() -> None:
    image, clip, document = png(2, 1), wav(), pdf()
    image_uri = f"data:image/png;base64,{b64(image)}"
    pdf_uri = f"data:application/pdf;base64,{b64(document)}"
    [message], _ = turns(
        [
            {
                "role": "user",
                "content": [
                    "Compare these.",
                    {"type": "image", "image": image},
                    {"type": "image_url", "image_url": {"url": image_uri}},
                    {"type": "image_url", "image_url": "https://example.org/cat.jpg"},
                    {"type": "input_audio", "input_audio": {"data": b64(clip), "format": "wav"}},
                    {"type": "file", "file": {"file_data": pdf_uri, "filename": "deal.pdf"}},
                    {"type": "document", "document": document, "mime_type": "application/pdf"},
                ],
            }
        ]
    )  # fmt: skip
    text, own, inline, linked, audio, file, own_document = message.content
    assert text == TextPart(text="Compare these.")
    assert isinstance(own, ImagePart) and isinstance(inline, ImagePart)
    assert own.data == inline.data == image and own.mime_type == "image/png"
    assert (own.source, inline.source) == ("messages[0].content[1]", "messages[0].content[2]")
    assert isinstance(linked, ImagePart) and linked.url == "https://example.org/cat.jpg"
    assert isinstance(audio, AudioPart) and (audio.data, audio.format) == (clip, "wav")
    assert isinstance(file, DocumentPart) and (file.data, file.name) == (document, "deal.pdf")
    assert isinstance(own_document, DocumentPart) and own_document.data == document
    assert message.text == "Compare these."


def test_chat_ui_history_pairs_become_turns() -> None:
    history, _ = turns([("Hi", "Hello!"), ["What is AI?", "Machine intelligence."]], "history")
    assert [(m.role, m.text) for m in history] == [
        ("user", "Hi"),
        ("assistant", "Hello!"),
        ("user", "What is AI?"),
        ("assistant", "Machine intelligence."),
    ]
    # The pair being asked now has no answer yet.
    [asked], _ = turns([("Still there?", None)], "history")
    assert (asked.role, asked.text) == ("user", "Still there?")


def said(*content: Any, role: str = "user") -> list[dict[str, Any]]:
    """One turn whose content is the list ``content``."""
    return [{"role": role, "content": list(content)}]


FIRST = r"messages\[0\]"
PART = FIRST + r"\.content\[0\]"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("hi", r"chat\(\): 'messages' must be a list of role/content dicts"),
        ([{"role": "user"}], FIRST + " must be a dict with 'role' and 'content'"),
        ([{"role": "function", "content": "x"}], FIRST + " has role 'function'"),
        ([{"role": "user", "content": 42}], FIRST + " has content of type int"),
        ([{"role": "user", "content": b"raw"}], FIRST + " has content of type bytes"),
        (said("  ", {"type": "text", "text": ""}), FIRST + " has empty content"),
        (said("ok", 3), FIRST + r"\.content\[1\] must be text or a dict with a 'type'"),
        (said({"type": "video", "video": b""}), PART + " has type 'video'"),
        (said({"type": "image"}), PART + ": an image part holds it under 'image'"),
        (said({"type": "image", "image": b"not an image"}), r"chat\(\): " + PART),
        (said("Rules", {"type": "image", "image": png()}, role="system"), FIRST + " is a system"),
        ([(None, "answer")], FIRST + " is a pair without its user message"),
    ],
)
def test_a_bad_turn_is_an_error_naming_it(value: Any, message: str) -> None:
    with pytest.raises(RequestBindingError, match=message):
        turns(value)


async def test_an_openai_style_multimodal_conversation_reaches_the_provider_as_parts(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    image = png(3, 3, shade=90)

    @llm_stream(task_type=TaskType.VISION_ANALYSIS, providers=["anthropic"], dispatcher=dispatcher)
    async def chat(messages: list[dict[str, Any]]) -> Any:
        yield "offline stand-in"

    conversation = [
        {"role": "user", "content": [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(image)}"}},
        ]},
    ]  # fmt: skip
    stream = chat(conversation)
    text = "".join([chunk async for chunk in stream])

    [recorded] = fake_server.requests
    assert [p["type"] for p in recorded.parts[0]] == ["text", "image"]
    assert recorded.parts[0][1]["data"] == image
    assert recorded.prompt == "What is in this picture?"
    assert "With it: an image (image/png" in text


def test_a_tool_result_is_text_and_media_in_it_is_refused_not_dropped() -> None:
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "chart", "arguments": "{}"}}
        ],
    }
    text_result = {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": [{"type": "text", "text": "rendered"}],
    }
    messages, _ = turns([{"role": "user", "content": "Draw it"}, call, text_result])
    [result] = messages[-1].content
    assert (result.name, result.content) == ("chart", "rendered")

    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{b64(png())}"}}
    with_image = {**text_result, "content": [{"type": "text", "text": "here:"}, image]}
    with pytest.raises(
        RequestBindingError, match=r"messages\[2\]\.content holds a part of type 'image'"
    ):
        turns([{"role": "user", "content": "Draw it"}, call, with_image])
