"""StreamingHandler: property tests (any text, chunking, target) and the streaming rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_dispatch.embedding import (
    MetadataTarget,
    StreamingHandler,
    UnicodeMetadata,
    VerifyStatus,
)
from llm_dispatch.embedding.codec import SELECTOR_RUN
from llm_dispatch.embedding.verify import extract, strip, verify

try:
    from embedding_strategies import chunked, metadatas, targets, texts
except ImportError:  # tests/ imported as a package
    from tests.embedding_strategies import chunked, metadatas, targets, texts

KEY = "test-key"


def stream(
    chunks: list[str],
    *,
    end: str = "is_final",
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[list[str], StreamingHandler]:
    """Run ``chunks`` through a handler; ``end``: is_final, finalize, or none."""
    handler = StreamingHandler(metadata, hmac_secret_key=KEY, **kwargs)
    last = len(chunks) - 1
    out = [
        handler.process_chunk(c, is_final=end == "is_final" and i == last)
        for i, c in enumerate(chunks)
    ]
    if end == "finalize":
        out.append(handler.finalize()["tail"])
    return out, handler


@st.composite
def streams(draw: Any) -> tuple[str, list[str], dict[str, Any], dict[str, Any]]:
    text = draw(texts)
    kwargs = {
        "target": draw(targets),
        "encode_first_chunk_only": draw(st.booleans()),
        "min_buffer_size": draw(st.sampled_from([0, 0, 5])),
    }
    return text, chunked(draw, text), draw(metadatas), kwargs


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.sampled_from(["is_final", "finalize"]))
def test_any_stream_strips_back_extracts_and_verifies(
    case: tuple[str, list[str], dict[str, Any], dict[str, Any]], end: str
) -> None:
    text, chunks, metadata, kwargs = case
    out, _ = stream(chunks, end=end, metadata=metadata, **kwargs)
    signed = "".join(out)
    assert strip(signed) == text
    assert extract(signed) == metadata
    result = verify(signed, KEY)
    assert result.status is VerifyStatus.VALID, result.message
    assert UnicodeMetadata.verify_metadata(signed, hmac_secret_key=KEY) == (True, metadata)


@settings(max_examples=200, deadline=None)
@given(streams())
def test_no_chunk_is_held_back_or_repeated(
    case: tuple[str, list[str], dict[str, Any], dict[str, Any]],
) -> None:
    _, chunks, metadata, kwargs = case
    out, _ = stream(chunks, metadata=metadata, **kwargs)
    # Each output chunk is its input chunk plus whole frames of ours, nothing else.
    for given_chunk, returned in zip(chunks, out, strict=True):
        assert strip(returned, all_payloads=True) == given_chunk


def test_header_goes_after_the_first_target_and_chunks_without_one_pass_at_once() -> None:
    out, _ = stream(["Hello", "World", "! Then", " more"], target="whitespace")
    assert out[0] == "Hello" and out[1] == "World"
    assert out[2].startswith("! ") and len(out[2]) > len("! Then")
    assert SELECTOR_RUN.search(out[2]).start() == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("target", "chunks", "offset"),
    [
        ("whitespace", ["Hello, world. Bye"], 7),
        ("punctuation", ["Hello, world. Bye"], 6),
        ("first_letter", ["Hello, world. Bye"], 1),
        ("last_letter", ["Hello, world. Bye"], 5),
        ("all_characters", ["Hello, world. Bye"], 1),
        ("end", ["Hello, world. Bye"], 17),
        # last_letter across a chunk boundary: known only when the next chunk starts.
        ("last_letter", ["Hel", "lo", ", wor", "ld"], 5),
        ("last_letter", ["Hel", "lo"], 5),
        # a whitespace that ends a chunk: the header opens the next chunk.
        ("whitespace", ["Hello ", "world"], 6),
        # never between a character and its selector, mark, ZWJ partner or flag half.
        ("all_characters", ["❤", "\ufe0f hi"], 2),
        ("all_characters", ["👩\u200d💻 x"], 3),
        ("all_characters", ["🇫🇷 x"], 2),
        ("last_letter", ["cafe", "\u0301 x"], 5),
        ("first_letter", ["e\u0301x y"], 2),
        ("whitespace", ["a\r\nb"], 3),
        ("punctuation", ["«¿Qué?»"], 1),
        ("first_letter", ["x²y z"], 1),
    ],
)
def test_target_placement(target: str, chunks: list[str], offset: int) -> None:
    out, handler = stream(chunks, target=target)
    signed = "".join(out)
    result = verify(signed, KEY)
    assert result.valid
    assert result.header_offset == offset
    assert handler.finalize()["header_offset"] == offset


def test_min_buffer_size_delays_the_header_without_holding_text() -> None:
    chunks = ["one two ", "three four ", "five"]
    out, _ = stream(chunks, min_buffer_size=10)
    assert out[0] == chunks[0]
    assert verify("".join(out), KEY).header_offset == 14


def test_spread_header_uses_several_targets_and_leftovers_go_at_the_end() -> None:
    metadata = {"model": "gpt-4", "organization": "MyCompany", "note": "x" * 40, "n": 1}
    out, _ = stream(["a b c d e f g h i j k"], metadata=metadata,
                          encode_first_chunk_only=False)  # fmt: skip
    result = verify("".join(out), KEY)
    assert result.valid and len(result.header_spans) > 2
    assert all(end - start <= 26 for start, end in result.header_spans)
    few, _ = stream(["a b"], metadata=metadata, encode_first_chunk_only=False)
    result = verify("".join(few), KEY)
    assert result.valid and result.metadata == metadata


def test_no_target_at_all_puts_header_and_trailer_at_the_end() -> None:
    out, _ = stream(["abc", "def"], target="whitespace")
    assert out[0] == "abc" and out[1].startswith("def")
    assert verify("".join(out), KEY).header_offset == 6


def test_empty_stream_still_verifies() -> None:
    out, _ = stream([""], end="finalize")
    signed = "".join(out)
    assert strip(signed) == "" and verify(signed, KEY).valid


def test_unmarked_end_verifies_as_truncated_with_how_to_fix() -> None:
    out, handler = stream(["Some text. ", "More."], end="none")
    result = verify("".join(out), KEY)
    assert result.status is VerifyStatus.TRUNCATED
    assert "is_final=True" in result.message and "finalize()" in result.message
    assert result.metadata is not None  # extraction still works
    assert not UnicodeMetadata.verify_metadata("".join(out), hmac_secret_key=KEY)[0]
    # Marking the end afterwards completes it.
    signed = "".join(out) + handler.finalize()["tail"]
    assert verify(signed, KEY).valid


def test_finalize_after_is_final_has_no_tail_and_is_idempotent() -> None:
    _, handler = stream(["a b"], end="is_final")
    first = handler.finalize()
    assert first["tail"] == "" and first["ended_with"] == "is_final"
    assert handler.finalize() == first
    with pytest.raises(RuntimeError, match="already finished"):
        handler.process_chunk("more")
    with pytest.raises(RuntimeError):
        handler.update_metadata({"x": 1})


def test_summary_describes_the_stream() -> None:
    _, handler = stream(["Hello world", "!"], end="finalize", metadata={"model": "m"})
    summary = handler.finalize()
    assert summary["tail"]  # the trailer the caller must append
    assert summary["ended_with"] == "finalize"
    assert summary["chunks"] == 2 and summary["characters"] == 12
    assert summary["metadata"] == {"model": "m"}
    assert summary["payload_characters"] > 0 and summary["signed"]
    assert summary["key_id"] == handler.key_id


def test_metadata_changed_after_the_header_travels_in_the_trailer() -> None:
    handler = StreamingHandler({"model": "m", "n": 1}, hmac_secret_key=KEY)
    out = [handler.process_chunk("Hello w")]
    assert handler.header_sealed
    handler.update_metadata({"n": 2, "late": ["x"]})
    handler.metadata["direct"] = True
    out.append(handler.process_chunk("orld", is_final=True))
    signed = "".join(out)
    expected = {"model": "m", "n": 2, "late": ["x"], "direct": True}
    assert extract(signed) == expected
    result = verify(signed, KEY)
    assert result.valid and result.extras == {"n": 2, "late": ["x"], "direct": True}
    assert handler.get_metadata() == expected


def test_metadata_changed_before_the_header_goes_in_the_header() -> None:
    handler = StreamingHandler({"model": "m"}, hmac_secret_key=KEY)
    out = [handler.process_chunk("Hello")]
    handler.update_metadata({"model": "other"})
    out.append(handler.process_chunk(" world", is_final=True))
    result = verify("".join(out), KEY)
    assert result.valid and result.metadata == {"model": "other"} and result.extras == {}


def test_defaults_timestamp_and_random_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_DISPATCH_HMAC_KEY", raising=False)
    handler = StreamingHandler()
    assert set(handler.get_metadata()) == {"timestamp"}
    key = handler.hmac_secret_key
    assert isinstance(key, str) and len(key) >= 32 and handler.secret_key == key
    signed = handler.process_chunk("Hi there", is_final=True)
    assert verify(signed, key).valid
    assert verify(signed, "other").status is VerifyStatus.WRONG_KEY
    assert key not in repr(handler)


def test_key_from_env_and_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_DISPATCH_HMAC_KEY", "from-env")
    signed = StreamingHandler({"a": 1}).process_chunk("x y", is_final=True)
    assert verify(signed, "from-env").valid
    signed = StreamingHandler({"a": 1}, secret_key=b"raw").process_chunk("x y", is_final=True)
    assert verify(signed, b"raw").valid
    with pytest.raises(ValueError, match="not both"):
        StreamingHandler(hmac_secret_key="a", secret_key="b")


def test_targets_accept_strings_and_members_and_name_the_choices() -> None:
    for value in ("whitespace", "WHITESPACE", " White-Space ", MetadataTarget.WHITESPACE):
        assert StreamingHandler(target=value, hmac_secret_key=KEY).target is (
            MetadataTarget.WHITESPACE
        )
    assert MetadataTarget("first-letter") is MetadataTarget.FIRST_LETTER
    with pytest.raises(ValueError, match="whitespace, punctuation"):
        StreamingHandler(target="nowhere", hmac_secret_key=KEY)


def test_unencodable_metadata_fails_at_construction() -> None:
    with pytest.raises(TypeError, match="set"):
        StreamingHandler({"x": {1}}, hmac_secret_key=KEY)
    handler = StreamingHandler({}, hmac_secret_key=KEY)
    with pytest.raises(TypeError):
        handler.update_metadata({"x": object()})


def test_oversized_metadata_fails_at_construction_not_mid_stream() -> None:
    with pytest.raises(ValueError, match="limit"):
        StreamingHandler({"blob": "x" * 70_000}, hmac_secret_key=KEY)
    handler = StreamingHandler({}, hmac_secret_key=KEY)
    with pytest.raises(ValueError, match="limit"):
        handler.update_metadata({"blob": "x" * 70_000})
    # Big but allowed metadata still streams and verifies, spread or not.
    for first_only in (True, False):
        big = {"blob": "y" * 20_000}
        out, _ = stream(["a b c"], metadata=big, encode_first_chunk_only=first_only)
        assert verify("".join(out), KEY).metadata == big


def test_non_str_chunks_are_refused() -> None:
    handler = StreamingHandler({}, hmac_secret_key=KEY)
    with pytest.raises(TypeError, match="str"):
        handler.process_chunk(b"bytes")  # type: ignore[arg-type]


def test_unsigned_payload() -> None:
    signed = UnicodeMetadata.embed_metadata("a b", {"m": 1}, sign=False)
    result = verify(signed, KEY)
    assert result.status is VerifyStatus.UNSIGNED and result.metadata == {"m": 1}
    assert UnicodeMetadata.verify_metadata(signed, hmac_secret_key=KEY) == (False, None)


def test_seed_dict_payload_is_within_budget() -> None:
    metadata = {
        "model": "gpt-4",
        "organization": "MyCompany",
        "timestamp": "2025-06-01T12:34:56.123456+00:00",
        "version": "1.0.0",
    }
    for first_only in (True, False):
        out, handler = stream(
            ["This is the first chunk of text. ", "And the final chunk."],
            metadata=metadata,
            encode_first_chunk_only=first_only,
        )
        payload = handler.finalize()["payload_characters"]
        assert payload == len("".join(out)) - len(strip("".join(out)))
        assert payload <= 200
    # A timestamp the compact encoding knows keeps the whole payload under 80.
    out, handler = stream(["a b"], metadata=metadata)
    assert handler.finalize()["payload_characters"] <= 80


def test_custom_subclass_from_the_seed_docs() -> None:
    class CustomStreamingHandler(StreamingHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.chunks_processed_count = 0
            self.total_characters = 0
            super().__init__(*args, **kwargs)

        def process_chunk(self, chunk: str, is_final: bool = False) -> str:
            self.chunks_processed_count += 1
            self.total_characters += len(chunk)
            self.metadata["chunk_number"] = self.chunks_processed_count
            self.metadata["total_characters"] = self.total_characters
            return super().process_chunk(chunk, is_final)

        def finalize(self) -> dict[str, Any]:
            self.metadata["final_chunk_count"] = self.chunks_processed_count
            return super().finalize()

    handler = CustomStreamingHandler(metadata={"model": "custom-model"}, hmac_secret_key=KEY)
    chunks = ["This is the first chunk of text. ", "This is the second chunk. ", "Last."]
    out = [handler.process_chunk(c) for c in chunks]
    out.append(handler.finalize()["tail"])
    signed = "".join(out)
    assert verify(signed, KEY).valid
    assert extract(signed) == {
        "model": "custom-model",
        "chunk_number": 3,
        "total_characters": 64,
        "final_chunk_count": 3,
    }


def test_buffer_size_bounds_how_long_the_header_waits_for_a_target() -> None:
    from llm_dispatch.embedding import StreamingHandler, UnicodeMetadata
    from llm_dispatch.embedding.verify import locate

    chunks = ["a" * 40] * 5  # no whitespace anywhere: no target for "whitespace"
    key = "k" * 16
    for buffer_size, expect_early in ((100, True), (10_000, False)):
        handler = StreamingHandler({"m": 1}, "whitespace", key, buffer_size=buffer_size)
        out = [
            handler.process_chunk(c, is_final=i == len(chunks) - 1) for i, c in enumerate(chunks)
        ]
        text = "".join(out)
        assert UnicodeMetadata.strip_metadata(text) == "".join(chunks)
        assert UnicodeMetadata.verify(text, hmac_secret_key=key).valid
        located = locate(text)
        assert located is not None
        first_span = located.spans()[0][0]
        # Early: right after the first character past buffer_size; late: at the very end.
        assert (first_span <= 121) is expect_early, (buffer_size, first_span)

    with pytest.raises(ValueError, match="min_buffer_size"):
        StreamingHandler({"m": 1}, buffer_size=5, min_buffer_size=6)
