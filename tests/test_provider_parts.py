"""Content parts (images, audio, documents) through each official SDK to the fake server.

Every test sends real (tiny) media files and compares the bytes the fake server decoded
from the request with the bytes of the parts sent.
"""

from __future__ import annotations

from typing import Any

import media_samples
import pytest

from llm_dispatch.content import AudioPart, DocumentPart, ImagePart, Part, TextPart
from llm_dispatch.errors import BadRequestError
from llm_dispatch.providers.continuation import CONTINUATION_MODES, CONTINUE_INSTRUCTION
from llm_dispatch.request import Message
from llm_dispatch.testing import FakeProviderServer, Script
from llm_dispatch.testing.parts import MEDIA_TOKENS

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "test-model"
IMAGES = {"png": ("image/png", media_samples.png()), "jpeg": ("image/jpeg", media_samples.jpeg())}
AUDIO = {"wav": ("audio/wav", media_samples.wav()), "mp3": ("audio/mpeg", media_samples.mp3())}
PDF = media_samples.pdf()
IMAGE_URL = "https://images.example/cat.png"
PDF_URL = "https://docs.example/report.pdf"
#: The kinds that take audio, and the one that takes documents as bytes only.
AUDIO_KINDS = ("openai", "google")


def user(*parts: Part | str) -> Message:
    """A user message of ``parts`` (a str is a text part)."""
    return Message(
        role="user", content=tuple(TextPart(text=p) if isinstance(p, str) else p for p in parts)
    )


def recorded(server: FakeProviderServer, message: int = 0) -> list[dict[str, Any]]:
    """The parts the server recorded for message ``message`` of the only request."""
    assert len(server.requests) == 1
    return server.requests[0].parts[message]


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def sent(part: dict[str, Any]) -> dict[str, Any]:
    """A recorded part without the fields only some wires record (OpenAI's audio ``format``
    and document ``name``)."""
    return {k: v for k, v in part.items() if k not in ("format", "name")}


@pytest.mark.parametrize("image", sorted(IMAGES))
async def test_an_inline_image_round_trips(
    fake_server, sdk_provider, collect, ask, kind, image
) -> None:
    mime, data = IMAGES[image]
    request = ask(user("What is this?", ImagePart(mime_type=mime, data=data, source="images[0]")))

    outcome = await collect(sdk_provider(kind), request, MODEL)

    assert outcome.error is None
    first, second = recorded(fake_server)
    assert first == text("What is this?")
    assert sent(second) == {"type": "image", "mime_type": mime, "data": data}
    assert fake_server.requests[0].messages == [{"role": "user", "content": "What is this?"}]


# How each API carries an inline PNG in the request body.
def _openai_image(body: dict[str, Any]) -> Any:
    return body["messages"][0]["content"][1]["image_url"]["url"][:22]


def _anthropic_image(body: dict[str, Any]) -> Any:
    source = body["messages"][0]["content"][1]["source"]
    return source["type"], source["media_type"]


def _google_image(body: dict[str, Any]) -> Any:
    part = body["contents"][0]["parts"][1]
    inline = part.get("inlineData", part.get("inline_data"))
    return inline.get("mimeType", inline.get("mime_type"))


NATIVE_IMAGE = {
    "openai": (_openai_image, "data:image/png;base64,"),
    "anthropic": (_anthropic_image, ("base64", "image/png")),
    "google": (_google_image, "image/png"),
}


async def test_an_inline_image_is_sent_in_the_providers_own_form(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    mime, data = IMAGES["png"]
    await collect(
        sdk_provider(kind), ask(user("Look:", ImagePart(mime_type=mime, data=data))), MODEL
    )

    read, expected = NATIVE_IMAGE[kind]
    assert read(fake_server.requests[0].body) == expected


async def test_an_image_url_is_passed_for_the_provider_to_fetch(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    part = ImagePart(mime_type="image/png", url=IMAGE_URL, source="images[0]")

    outcome = await collect(sdk_provider(kind), ask(user("Describe", part)), MODEL)

    assert outcome.error is None
    image = recorded(fake_server)[1]
    assert (image["type"], image["url"]) == ("image", IMAGE_URL)
    assert "data" not in image
    # Gemini's file_data names the MIME type; the other two APIs take the URL alone.
    assert image["mime_type"] == ("image/png" if kind == "google" else None)


@pytest.mark.parametrize("kind", AUDIO_KINDS)
@pytest.mark.parametrize("audio", sorted(AUDIO))
async def test_audio_bytes_round_trip(fake_server, sdk_provider, collect, ask, kind, audio) -> None:
    mime, data = AUDIO[audio]
    part = AudioPart(mime_type=mime, data=data, source="audio")

    outcome = await collect(sdk_provider(kind), ask(user("Transcribe:", part)), MODEL)

    assert outcome.error is None
    sound = recorded(fake_server)[1]
    assert sent(sound) == {"type": "audio", "mime_type": mime, "data": data}
    if kind == "openai":
        assert sound["format"] == audio  # input_audio.format: "wav" / "mp3"


async def test_anthropic_refuses_audio_naming_the_part_before_sending(
    fake_server, sdk_provider, collect, ask
) -> None:
    part = AudioPart(mime_type="audio/wav", data=AUDIO["wav"][1], source="recording")

    outcome = await collect(sdk_provider("anthropic"), ask(user("Transcribe:", part)), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "'recording'" in outcome.error.message
    assert "no audio" in outcome.error.message
    assert outcome.events == []
    assert fake_server.requests == []


@pytest.mark.parametrize("name", [None, "report.pdf"])
async def test_a_pdf_round_trips(fake_server, sdk_provider, collect, ask, kind, name) -> None:
    part = DocumentPart(mime_type="application/pdf", data=PDF, name=name, source="document")

    outcome = await collect(sdk_provider(kind), ask(user("Summarise", part)), MODEL)

    assert outcome.error is None
    document = recorded(fake_server)[1]
    assert sent(document) == {"type": "document", "mime_type": "application/pdf", "data": PDF}
    if kind == "openai":
        # The file part's filename, which the API asks for.
        assert document["name"] == (name or "document.pdf")


@pytest.mark.parametrize("kind", ["anthropic", "google"])
async def test_a_pdf_url_is_passed_for_the_provider_to_fetch(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    part = DocumentPart(mime_type="application/pdf", url=PDF_URL)

    outcome = await collect(sdk_provider(kind), ask(user("Summarise", part)), MODEL)

    assert outcome.error is None
    document = recorded(fake_server)[1]
    assert (document["type"], document["url"]) == ("document", PDF_URL)


@pytest.mark.parametrize(
    ("part", "why"),
    [
        (DocumentPart(mime_type="application/pdf", url=PDF_URL, source="contract"), "not a URL"),
        (AudioPart(mime_type="audio/wav", url="https://a.example/x.wav", source="contract"), "URL"),
    ],
    ids=["document-url", "audio-url"],
)
async def test_openai_refuses_media_it_takes_as_bytes_only_given_a_url(
    fake_server, sdk_provider, collect, ask, part, why
) -> None:
    outcome = await collect(sdk_provider("openai"), ask(user("Read", part)), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "'contract'" in outcome.error.message and why in outcome.error.message
    assert fake_server.requests == []


async def test_openai_refuses_media_in_an_assistant_message(
    fake_server, sdk_provider, collect, ask
) -> None:
    image = ImagePart(mime_type="image/png", data=IMAGES["png"][1], source="history[1]")
    request = ask(
        Message(role="user", content="Draw a dot"),
        Message(role="assistant", content=(TextPart(text="Here:"), image)),
        Message(role="user", content="Bigger"),
    )

    outcome = await collect(sdk_provider("openai"), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "'history[1]'" in outcome.error.message
    assert fake_server.requests == []


# Where each API carries the system prompt, read from the request body.
SYSTEM_PLACES = {
    "openai": lambda body: body["messages"][0],
    "anthropic": lambda body: body["system"],
    "google": lambda body: body["systemInstruction"]["parts"],
}
SYSTEM_SENT = {
    "openai": {"role": "system", "content": "Be terse."},
    "anthropic": "Be terse.",
    "google": [{"text": "Be terse."}],
}


async def test_history_keeps_its_order_and_the_system_prompt_its_place(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    mime, data = IMAGES["jpeg"]
    request = ask(
        user("What animal is this?", ImagePart(mime_type=mime, data=data)),
        Message(role="assistant", content="A cat."),
        user("And this one?", ImagePart(mime_type="image/png", data=IMAGES["png"][1])),
        Message(role="assistant", content="A dog."),
        Message(role="user", content="Which is bigger?"),
        system="Be terse.",
    )

    outcome = await collect(sdk_provider(kind), request, MODEL)

    assert outcome.error is None
    rec = fake_server.requests[0]
    assert rec.system == "Be terse."
    assert SYSTEM_PLACES[kind](rec.body) == SYSTEM_SENT[kind]
    assert rec.messages == [
        {"role": "user", "content": "What animal is this?"},
        {"role": "assistant", "content": "A cat."},
        {"role": "user", "content": "And this one?"},
        {"role": "assistant", "content": "A dog."},
        {"role": "user", "content": "Which is bigger?"},
    ]
    assert [sent(p) for p in rec.parts[0]] == [
        text("What animal is this?"),
        {"type": "image", "mime_type": mime, "data": data},
    ]
    assert sent(rec.parts[2][1]) == {
        "type": "image",
        "mime_type": "image/png",
        "data": IMAGES["png"][1],
    }
    assert rec.parts[1] == [text("A cat.")]
    assert rec.parts[4] == [text("Which is bigger?")]
    assert rec.prompt == "Which is bigger?"


CONTINUATIONS = [(kind, mode) for kind, modes in CONTINUATION_MODES.items() for mode in modes]


@pytest.mark.parametrize(("kind", "mode"), CONTINUATIONS)
async def test_a_continuation_keeps_the_image_of_an_earlier_turn(
    fake_server, sdk_provider, collect, ask, kind, mode
) -> None:
    mime, data = IMAGES["png"]
    request = ask(
        user("Describe this in ten words.", ImagePart(mime_type=mime, data=data)),
        Message(role="assistant", content="A small orange"),
        system="Be terse.",
    )

    outcome = await collect(sdk_provider(kind, continuation=mode), request, MODEL)

    assert outcome.error is None
    rec = fake_server.requests[0]
    assert rec.system == "Be terse."
    assert sent(rec.parts[0][1]) == {"type": "image", "mime_type": mime, "data": data}
    tail = [{"role": "assistant", "content": "A small orange"}]
    if mode == "instruction":
        tail.append({"role": "user", "content": CONTINUE_INSTRUCTION})
    assert rec.messages == [{"role": "user", "content": "Describe this in ten words."}, *tail]
    flags = {
        k: rec.body[k] for k in ("continue_final_message", "add_generation_prompt") if k in rec.body
    }
    expected = {"continue_final_message": True, "add_generation_prompt": False}
    assert flags == (expected if mode == "continue_final_message" else {})


async def test_anthropic_prefill_after_parts_is_trimmed_not_repeated(
    fake_server, sdk_provider, collect, ask
) -> None:
    request = ask(
        user("Describe", ImagePart(mime_type="image/png", data=IMAGES["png"][1])),
        Message(role="assistant", content=(TextPart(text="A small "),)),
    )
    fake_server.enqueue(Script(chunks=[" orange", " dot."]))

    outcome = await collect(sdk_provider("anthropic"), request, MODEL)

    assert fake_server.requests[0].body["messages"][-1] == {
        "role": "assistant",
        "content": "A small",
    }
    assert outcome.texts == ["orange", " dot."]


# A message of text parts only, as each API receives it.
TEXT_ONLY = {
    "openai": lambda body: body["messages"][0]["content"],
    "anthropic": lambda body: body["messages"][0]["content"],
    "google": lambda body: body["contents"][0]["parts"],
}
TEXT_ONLY_SENT = {
    "openai": "First.\n\nSecond.",
    "anthropic": "First.\n\nSecond.",
    "google": [{"text": "First.\n\nSecond."}],
}


async def test_a_message_of_text_parts_is_sent_as_its_text(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    await collect(sdk_provider(kind), ask(user("First.", "Second.")), MODEL)

    assert TEXT_ONLY[kind](fake_server.requests[0].body) == TEXT_ONLY_SENT[kind]


async def test_the_fake_usage_counts_media_parts(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    document = DocumentPart(mime_type="application/pdf", data=PDF)
    image = ImagePart(mime_type="image/png", data=IMAGES["png"][1])

    outcome = await collect(sdk_provider(kind), ask(user("two words", image, document)), MODEL)

    assert outcome.error is None
    usage = outcome.final.usage
    assert usage is not None
    assert usage.prompt_tokens == 2 + MEDIA_TOKENS["image"] + MEDIA_TOKENS["document"]
