"""A decorated call's whole request, end to end: its media reach the provider as parts, its
history comes before the prompt, its options reach the wire, and routing picks a model that
takes what the call sends and says which it left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from media_samples import pdf, png, wav

from llm_dispatch import TaskType, llm_stream
from llm_dispatch.media import encode_image
from llm_dispatch.testing import FakeProviderServer, Script

pytestmark = pytest.mark.usefixtures("clean_provider_env")


IMAGE = png(2, 2, shade=7)
IMAGE_URL = "https://example.org/cat.png"


def image_as(form: str, folder: Path) -> Any:
    """``IMAGE`` in one of the forms a caller may pass."""
    if form == "bytes":
        return IMAGE
    if form == "path":
        (folder / "cat.png").write_bytes(IMAGE)
        return folder / "cat.png"
    if form == "data_uri":
        (folder / "cat.png").write_bytes(IMAGE)
        return encode_image(folder / "cat.png")
    return IMAGE_URL


@pytest.mark.parametrize("form", ["bytes", "path", "data_uri", "url"])
@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
async def test_an_image_argument_reaches_each_provider_as_an_image_part(
    provider: str, form: str, tmp_path: Path, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()

    @llm_stream(task_type=TaskType.VISION_ANALYSIS, providers=[provider], dispatcher=dispatcher)
    async def stream_image_analysis(prompt: str, images: list[Any]) -> Any:
        yield "offline stand-in"

    stream = stream_image_analysis("Describe this image", [image_as(form, tmp_path)])
    text = "".join([chunk async for chunk in stream])

    [recorded] = fake_server.requests
    [parts] = recorded.parts
    assert [p["type"] for p in parts] == ["text", "image"]
    if form == "url":
        assert parts[1]["url"] == IMAGE_URL and "data" not in parts[1]
        assert "With it: an image (" in text and IMAGE_URL in text
    else:
        assert (parts[1]["data"], parts[1]["mime_type"]) == (IMAGE, "image/png")
        assert f"With it: an image (image/png, {len(IMAGE)} bytes)." in text
    assert stream.provider == provider


async def test_routing_skips_the_models_that_take_no_audio_and_says_why(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(routes={"default": ["anthropic", "openai", "google"]})
    clip = wav()

    @llm_stream(dispatcher=dispatcher)
    async def transcribe(prompt: str, audio: bytes) -> Any:
        yield "offline stand-in"

    stream = transcribe("Transcribe this audio", clip)
    [_ async for _ in stream]

    assert stream.provider == "google"
    assert [r.provider for r in fake_server.requests] == ["google"]
    assert fake_server.requests[0].parts[0][1]["data"] == clip
    assert stream.skipped == {
        "anthropic/claude-haiku-4-5": "takes text, image, document; "
        "this request sends audio (audio)",
        "openai/gpt-4o-mini": "takes text, image, document; this request sends audio (audio)",
    }


async def test_history_media_and_options_arrive_together_in_order(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    document = pdf()

    @llm_stream(providers=["anthropic"], options={"top_k": 40}, dispatcher=dispatcher)
    async def ask_about(
        question: str,
        history: list[dict[str, str]],
        document: bytes,
        options: dict[str, Any] | None = None,
    ) -> Any:
        yield "offline stand-in"

    history = [
        {"role": "user", "content": "I will send a contract."},
        {"role": "assistant", "content": "Ready when you are."},
    ]
    stream = ask_about("Who signs it?", history, document, options={"top_p": 0.5})
    [_ async for _ in stream]

    [recorded] = fake_server.requests
    assert [(m["role"], m["content"]) for m in recorded.messages] == [
        ("user", "I will send a contract."),
        ("assistant", "Ready when you are."),
        ("user", "Who signs it?"),
    ]
    assert recorded.parts[2][1] == {
        "type": "document",
        "mime_type": "application/pdf",
        "data": document,
    }
    assert (recorded.body["top_k"], recorded.body["top_p"]) == (40, 0.5)


async def test_no_model_takes_the_request_raises_without_the_offline_hint(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    from llm_dispatch import NoProviderAvailable

    dispatcher = make_dispatcher(routes={"default": ["anthropic", "openai"]})

    @llm_stream(dispatcher=dispatcher)
    async def transcribe(prompt: str, audio: bytes) -> Any:
        yield "offline stand-in"

    with pytest.raises(NoProviderAvailable) as caught:
        await transcribe("Transcribe this audio", wav()).collect()

    message = str(caught.value)
    assert "this request sends audio (audio)" in message
    assert "LLM_DISPATCH_FAKE" not in message  # keys are not the problem here
    assert fake_server.requests == []


@pytest.mark.parametrize(("first", "second"), [("openai", "anthropic"), ("anthropic", "google")])
async def test_a_mid_stream_continuation_keeps_the_image_and_the_history(
    first: str, second: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    whole = " ".join(f"word{i}" for i in range(30)) + "."
    fake_server.enqueue(Script(text=whole, drop_after=10), provider=first)
    fake_server.enqueue(Script(text=whole, continuation="follow"), provider=second)
    image = png(2, 2, shade=33)

    @llm_stream(
        dispatcher=make_dispatcher(),
        providers=[first, second],
        mid_stream="continue",
        timeout=60,
    )
    async def describe(prompt: str, history: list[Any], images: list[bytes]) -> Any:
        yield "offline stand-in"

    history = [("What are you?", "A describer of pictures.")]
    stream = describe("Describe this image", history, [image])
    text = "".join([chunk async for chunk in stream])

    assert text == whole
    cut, resumed = fake_server.requests
    assert (cut.provider, resumed.provider) == (first, second)
    for recorded in (cut, resumed):
        assert [m["content"] for m in recorded.messages[:3]] == [
            "What are you?",
            "A describer of pictures.",
            "Describe this image",
        ]
        assert recorded.parts[2][1]["data"] == image
    # the continuation adds the partial answer after the prompt and its image
    assert resumed.messages[3]["role"] == "assistant"
    assert whole.startswith(resumed.messages[3]["content"].rstrip())
