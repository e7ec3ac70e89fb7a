"""The EncypherAI streaming docs (seeds 000 and 001) against ``llm_dispatch.embedding``:
the ``CustomStreamingHandler`` subclass and its ``chunks_processed`` counter, and the
provider samples' flow over the real OpenAI and Anthropic SDKs and real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from llm_dispatch.embedding import StreamingHandler, UnicodeMetadata
from llm_dispatch.testing.background import BackgroundFakeServer

CHUNKS = [
    "This is the first chunk of text. ",
    "This is the second chunk. ",
    "And this is the final chunk.",
]
KEY = "your-secret-key"


class CustomStreamingHandler(StreamingHandler):
    """Seed 000's subclass, as written there (untyped, as a user writes it)."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.chunks_processed = 0
        self.total_characters = 0
        super().__init__(*args, **kwargs)

    def process_chunk(self, chunk, is_final=False):  # type: ignore[no-untyped-def]
        self.chunks_processed += 1
        self.total_characters += len(chunk)
        self.metadata["chunk_number"] = self.chunks_processed
        self.metadata["total_characters"] = self.total_characters
        return super().process_chunk(chunk, is_final)

    def finalize(self):  # type: ignore[no-untyped-def]
        self.metadata["final_chunk_count"] = self.chunks_processed
        self.metadata["final_character_count"] = self.total_characters
        return super().finalize()

    def get_statistics(self):  # type: ignore[no-untyped-def]
        return {
            "chunks_processed": self.chunks_processed,
            "total_characters": self.total_characters,
            "average_chunk_size": self.total_characters / max(1, self.chunks_processed),
        }


class CountsAfter(StreamingHandler):
    """Counts the chunk itself after the parent processed it."""

    def process_chunk(self, chunk: str, is_final: bool = False) -> str:
        out = super().process_chunk(chunk, is_final)
        self.chunks_processed += 1
        return out


class Untouched(StreamingHandler):
    """Overrides process_chunk without touching the counter."""

    def process_chunk(self, chunk: str, is_final: bool = False) -> str:
        return super().process_chunk(chunk.upper(), is_final)


class Grandchild(CustomStreamingHandler):
    """A subclass of the seed's subclass that adds nothing to the count."""

    def process_chunk(self, chunk, is_final=False):  # type: ignore[no-untyped-def]
        return super().process_chunk(chunk, is_final)


def test_the_seed_subclass_counts_each_chunk_once_and_its_text_verifies() -> None:
    handler = CustomStreamingHandler(metadata={"model": "custom-model"}, hmac_secret_key=KEY)
    out = [handler.process_chunk(chunk) for chunk in CHUNKS]
    stats = handler.get_statistics()
    assert stats == {"chunks_processed": 3, "total_characters": 87, "average_chunk_size": 29.0}
    json.dumps(stats)  # what the seed prints
    # The header went out with the first chunk, holding what the subclass set by then.
    assert UnicodeMetadata.extract_metadata("".join(out)) == {
        "model": "custom-model",
        "chunk_number": 1,
        "total_characters": 33,
    }
    summary = handler.finalize()
    assert summary["chunks"] == handler.chunks_processed == 3
    text = "".join(out) + summary["tail"]
    valid, metadata = UnicodeMetadata.verify_metadata(text, hmac_secret_key=KEY)
    assert valid
    assert metadata == {
        "model": "custom-model",
        "chunk_number": 3,
        "total_characters": 87,
        "final_chunk_count": 3,
        "final_character_count": 87,
    }
    assert UnicodeMetadata.strip_metadata(text) == "".join(CHUNKS)


@pytest.mark.parametrize("cls", [CustomStreamingHandler, CountsAfter, Untouched, Grandchild])
@pytest.mark.parametrize("end", ["is_final", "finalize"])
def test_every_way_of_counting_counts_one_per_chunk(cls: type[StreamingHandler], end: str) -> None:
    handler = cls(metadata={"m": 1}, hmac_secret_key=KEY)
    out = []
    for i, chunk in enumerate(CHUNKS):
        out.append(handler.process_chunk(chunk, is_final=end == "is_final" and i == 2))
        assert handler.chunks_processed == i + 1
    summary = handler.finalize()
    assert summary["chunks"] == handler.chunks_processed == 3
    assert UnicodeMetadata.verify("".join(out) + summary["tail"], hmac_secret_key=KEY).valid


def test_the_base_handler_counts_and_an_assignment_between_calls_sets_the_count() -> None:
    handler = StreamingHandler(hmac_secret_key=KEY)
    handler.process_chunk(CHUNKS[0])
    handler.process_chunk(CHUNKS[1])
    assert handler.chunks_processed == 2
    handler.chunks_processed = 10
    handler.process_chunk(CHUNKS[2], is_final=True)
    assert handler.chunks_processed == 11
    assert handler.finalize()["chunks"] == 11


def test_a_count_assigned_before_init_is_the_starting_count() -> None:
    class StartsAtFive(StreamingHandler):
        def __init__(self, **kwargs: Any) -> None:
            self.chunks_processed = 5
            super().__init__(**kwargs)

    handler = StartsAtFive(hmac_secret_key=KEY)
    assert handler.chunks_processed == 5
    handler.process_chunk(CHUNKS[0])
    assert handler.chunks_processed == 6


def test_a_call_that_raises_is_not_counted() -> None:
    handler = Untouched(hmac_secret_key=KEY)
    handler.process_chunk(CHUNKS[0], is_final=True)
    with pytest.raises(RuntimeError, match="already finished"):
        handler.process_chunk(CHUNKS[1])
    assert handler.chunks_processed == 1
    # The failed call left nothing behind: an assignment now is a plain assignment.
    handler.chunks_processed = 4
    assert handler.chunks_processed == 4


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (-1, ValueError, "must not be negative"),
        (True, TypeError, "must be an int, not bool"),
        (1.5, TypeError, "must be an int, not float"),
    ],
)
def test_a_bad_count_is_refused(value: Any, error: type[Exception], message: str) -> None:
    handler = StreamingHandler(hmac_secret_key=KEY)
    with pytest.raises(error, match=message):
        handler.chunks_processed = value


# -- the provider samples' flow over real HTTP --------------------------------------------


@pytest.fixture
def server() -> Iterator[BackgroundFakeServer]:
    background = BackgroundFakeServer().start()
    try:
        yield background
    finally:
        background.stop()


def openai_texts(server: BackgroundFakeServer) -> Iterator[str]:
    client = openai.OpenAI(
        api_key="your-api-key", base_url=server.base_url_for("openai"), timeout=10
    )
    completion = client.chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "Write a short paragraph about AI ethics."}],
        stream=True,
    )
    for chunk in completion:
        if chunk.choices and chunk.choices[0].delta.content:
            yield chunk.choices[0].delta.content


def anthropic_texts(server: BackgroundFakeServer) -> Iterator[str]:
    client = anthropic.Anthropic(
        api_key="your-api-key", base_url=server.base_url_for("anthropic"), timeout=10
    )
    with client.messages.stream(
        model="claude-3-opus-20240229",
        max_tokens=1000,
        messages=[{"role": "user", "content": "Write a short paragraph about AI ethics."}],
    ) as stream:
        yield from stream.text_stream


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_a_provider_stream_signed_chunk_by_chunk_verifies_with_its_tail(
    server: BackgroundFakeServer, sdk: str
) -> None:
    metadata = {"model_id": "gpt-4", "organization": "EncypherAI", "version": "1.1.0"}
    handler = CustomStreamingHandler(metadata=metadata, target="whitespace", hmac_secret_key=KEY)
    texts = list(openai_texts(server) if sdk == "openai" else anthropic_texts(server))
    assert len(texts) > 5
    full_response = "".join(handler.process_chunk(chunk=t) for t in texts)
    # The seed's samples stop here (finalize() with its summary dropped): the metadata is
    # already readable, but the text says it was cut before its end.
    assert UnicodeMetadata.extract_metadata(full_response)["organization"] == "EncypherAI"
    assert UnicodeMetadata.verify(full_response, hmac_secret_key=KEY).status == "truncated"
    summary = handler.finalize()
    assert summary["chunks"] == handler.get_statistics()["chunks_processed"] == len(texts)
    valid, verified = UnicodeMetadata.verify_metadata(
        full_response + summary["tail"], hmac_secret_key=KEY
    )
    assert valid
    assert verified is not None and verified["final_chunk_count"] == len(texts)
    assert UnicodeMetadata.strip_metadata(full_response) == "".join(texts)
    assert not UnicodeMetadata.verify_metadata(full_response + summary["tail"], "other-key")[0]
