"""A decorated call's whole request, end to end: its media reach the provider as parts, its
history comes before the prompt, its options reach the wire, and routing picks a model that
takes what the call sends and says which it left out."""

from __future__ import annotations

from typing import Any

import pytest
from media_samples import pdf, png, wav

from llm_dispatch import TaskType, llm_stream
from llm_dispatch.testing import FakeProviderServer

pytestmark = pytest.mark.usefixtures("clean_provider_env")


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
async def test_an_image_argument_reaches_each_provider_as_an_image_part(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    image = png(2, 2, shade=7)

    @llm_stream(task_type=TaskType.VISION_ANALYSIS, providers=[provider], dispatcher=dispatcher)
    async def stream_vision(prompt: str, images: list[bytes]) -> Any:
        yield "offline stand-in"

    stream = stream_vision("Describe this image", [image])
    text = "".join([chunk async for chunk in stream])

    [recorded] = fake_server.requests
    [parts] = recorded.parts
    assert [p["type"] for p in parts] == ["text", "image"]
    assert parts[1]["data"] == image
    assert f"With it: an image (image/png, {len(image)} bytes)." in text
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
