"""What every SDK provider must do with a well-formed stream, for each provider."""

from __future__ import annotations

import pytest

from llm_dispatch.events import ProviderEvent, Usage
from llm_dispatch.request import Message, Request
from llm_dispatch.testing import Script

pytestmark = pytest.mark.usefixtures("clean_provider_env")

REQUEST = Request(messages=(Message(role="user", content="say hi"),))
KINDS = ["openai", "anthropic", "google"]


@pytest.mark.parametrize("kind", KINDS)
async def test_text_keeps_chunk_boundaries_then_usage_and_finish(
    fake_server, sdk_provider, collect, kind
) -> None:
    chunks = ["Hel", "lo", ", wor", "ld!", " ", "\n\nBye"]
    fake_server.enqueue(Script(chunks=chunks, usage=(11, 6)))

    outcome = await collect(sdk_provider(kind), REQUEST, "test-model")

    assert outcome.error is None
    assert outcome.texts == chunks
    assert [e.text for e in outcome.events[:-1]] == chunks
    assert outcome.final == ProviderEvent(usage=Usage.of(11, 6), finish_reason="stop")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("finish", ["length", "content_filter"])
async def test_finish_reason_is_normalised(
    fake_server, sdk_provider, collect, kind, finish
) -> None:
    fake_server.enqueue(Script(chunks=["a", "b"], finish_reason=finish))

    outcome = await collect(sdk_provider(kind), REQUEST, "test-model")

    assert outcome.error is None
    assert outcome.final.finish_reason == finish
