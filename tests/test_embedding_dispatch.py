"""The embedding stage inside the dispatcher: real provider streams signed end to end."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import fake_providers

from llm_dispatch import Dispatcher, llm_stream, llm_stream_with_metadata
from llm_dispatch.embedding import UnicodeMetadata, VerifyStatus
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

KEY = "test-hmac-key-0123456789"
CHUNKS = ["The ", "answer ", "is ", "forty-two, ", "said ", "the ", "machine."]


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google"])
async def test_each_provider_stream_is_signed_and_verifies(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS))

    @llm_stream(
        providers=[provider],
        dispatcher=make_dispatcher(),
        embed_metadata={"hmac_key": KEY, "fields": {"organization": "Acme"}},
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    stream = answer("What is the answer?")
    text = "".join([c async for c in stream])

    assert text != "".join(CHUNKS)
    assert UnicodeMetadata.strip_metadata(text) == "".join(CHUNKS)
    result = UnicodeMetadata.verify(text, hmac_secret_key=KEY)
    assert result.status is VerifyStatus.VALID
    metadata = result.metadata
    assert metadata is not None
    assert metadata["provider"] == provider and metadata["model"] == stream.model
    assert metadata["request_id"] == stream.request_id
    assert metadata["task_type"] == "text_generation"
    assert metadata["contributors"] == [provider] and metadata["cached"] is False
    assert metadata["organization"] == "Acme" and "timestamp" in metadata

    edited = text.replace("forty-two", "forty-three")
    assert UnicodeMetadata.verify(edited, hmac_secret_key=KEY).status is VerifyStatus.TAMPERED


async def test_config_section_signs_every_function_unless_turned_off(
    fake_server: FakeProviderServer, monkeypatch: pytest.MonkeyPatch, clean_provider_env: None
) -> None:
    monkeypatch.setenv("LLM_DISPATCH_HMAC_KEY", KEY)
    dispatcher = Dispatcher(
        {
            "providers": fake_providers(fake_server),
            "embedding": {"target": "punctuation", "fields": {"app": "tests"}},
        }
    )
    try:

        @llm_stream_with_metadata(providers=["openai"], dispatcher=dispatcher)
        async def signed(prompt: str) -> Any:
            yield "unused"

        @llm_stream(providers=["openai"], dispatcher=dispatcher, embed_metadata=False)
        async def plain(prompt: str) -> Any:
            yield "unused"

        fake_server.enqueue(Script(chunks=CHUNKS), Script(chunks=CHUNKS))
        items = [m async for m in signed("q")]
        text = "".join(m["chunk"] for m in items)
        # The trailer (the signature) arrives on the final dict.
        assert items[-1]["is_final"] and items[-1]["chunk"]
        assert UnicodeMetadata.verify_metadata(text, hmac_secret_key=KEY)[0] is True
        assert UnicodeMetadata.extract_metadata(text)["app"] == "tests"  # type: ignore[index]
        assert "".join([c async for c in plain("q")]) == "".join(CHUNKS)
        assert repr(dispatcher.embedding_stage).find(KEY) == -1
    finally:
        await dispatcher.aclose()


async def test_continuation_names_every_contributor_and_still_verifies(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=3), provider="openai")
    fake_server.enqueue(Script(chunks=["the ", "rest."]), provider="google")

    @llm_stream(
        providers=["openai", "google"],
        mid_stream="continue",
        dispatcher=make_dispatcher(),
        embed_metadata={"hmac_key": KEY},
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    with capture_events() as logs:
        text = "".join([c async for c in answer("q")])
    assert UnicodeMetadata.strip_metadata(text) == "".join(CHUNKS[:3]) + "the rest."
    result = UnicodeMetadata.verify(text, hmac_secret_key=KEY)
    assert result.status is VerifyStatus.VALID
    assert result.metadata is not None and result.metadata["contributors"] == ["openai", "google"]
    # The continuation request carries the provider text, never our invisible payload.
    [partial] = [m for m in fake_server.requests[-1].messages if m["role"] == "assistant"]
    assert partial["content"] == "".join(CHUNKS[:3])
    assert KEY not in repr(logs)


async def test_interrupted_signed_stream_never_verifies(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, cut_after=4))

    @llm_stream(
        providers=["anthropic"], dispatcher=make_dispatcher(), embed_metadata={"hmac_key": KEY}
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    received: list[str] = []
    with pytest.raises(Exception):  # noqa: B017 - StreamInterrupted, checked below
        async for chunk in answer("q"):
            received.append(chunk)
    status = UnicodeMetadata.verify("".join(received), hmac_secret_key=KEY).status
    assert status is VerifyStatus.TRUNCATED
