"""The byte↔selector codec, frame scanning and the compact metadata encoding."""

from __future__ import annotations

import itertools
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_dispatch.embedding.codec import (
    KIND_HEADER,
    KIND_TRAILER,
    KINDS,
    MAGIC,
    bytes_to_selectors,
    encode_frame,
    frame_bytes,
    is_selector,
    selectors_to_bytes,
)
from llm_dispatch.embedding.compact import KNOWN_STRINGS, pack, unpack
from llm_dispatch.embedding.payload import (
    PIECE_PREFIX,
    REF_SIZE,
    TAG_SIZE,
    HeaderData,
    HeaderPiece,
    Trailer,
    classify,
)
from llm_dispatch.embedding.scanner import candidate_budget, scan, scan_frames
from llm_dispatch.errors import PayloadError

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text(max_size=80)
    | st.sampled_from(KNOWN_STRINGS)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=20)
        | st.dictionaries(st.text(max_size=12), children, max_size=20)
    ),
    max_leaves=40,
)


def test_every_byte_maps_to_a_distinct_selector() -> None:
    text = bytes_to_selectors(bytes(range(256)))
    assert len(text) == 256 == len(set(text))
    assert all(is_selector(c) for c in text)
    assert text[0] == "\ufe00" and text[15] == "\ufe0f"
    assert text[16] == "\U000e0100" and text[255] == "\U000e01ef"
    assert selectors_to_bytes(text) == bytes(range(256))


def test_selectors_to_bytes_refuses_other_characters() -> None:
    with pytest.raises(ValueError):
        selectors_to_bytes("\ufe00a")


@given(st.binary(max_size=300))
def test_bytes_round_trip(data: bytes) -> None:
    assert selectors_to_bytes(bytes_to_selectors(data)) == data


@settings(max_examples=120, deadline=None)
@given(json_values)
def test_compact_encoding_round_trips(value: Any) -> None:
    assert unpack(pack(value)) == value


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-02T03:04:05Z",
        "2025-01-02T03:04:05.123Z",
        "2025-01-02T03:04:05.123456+00:00",
        "2025-01-02 03:04:05",
        "2025-01-02T03:04:05-07:30",
        "2025-01-02T03:04",
        "1969-12-31T23:59:59.999999+14:00",
        "2025-01-02T03:04:05.120Z",
        "2025-01-02T03:04:05+00:00:30",
        "2025-01-02T03:04:05.1Z",
    ],
)
def test_timestamps_come_back_exactly(text: str) -> None:
    assert unpack(pack(text)) == text


TIMEZONES: Any = (
    st.none()
    | st.just(UTC)
    | st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-1439, 1439))
)


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=TIMEZONES,
    ),
    st.sampled_from(["auto", "seconds", "milliseconds", "microseconds", "minutes"]),
    st.booleans(),
)
def test_any_isoformat_rendering_round_trips(dt: datetime, spec: str, z: bool) -> None:
    text = dt.isoformat(timespec=spec)
    if z and text.endswith("+00:00"):
        text = text[:-6] + "Z"
    assert unpack(pack(text)) == text
    # ... and in the timestamp form: its renderer writes what isoformat writes.
    assert pack(text)[0] == 0x0A or len(text) < 16


def test_compact_forms_are_small() -> None:
    assert len(pack("2025-06-01T12:00:00.123Z")) <= 10
    assert len(pack(uuid.uuid4().hex)) == 18
    assert len(pack(str(uuid.uuid4()))) == 17
    assert len(pack("model")) == 1
    assert len(pack(42)) == 1


def test_values_that_change_type_are_documented_ones() -> None:
    assert unpack(pack((1, 2))) == [1, 2]
    assert unpack(pack(datetime(2025, 1, 2, tzinfo=UTC))) == "2025-01-02T00:00:00+00:00"
    assert math.isnan(unpack(pack(float("nan"))))


@pytest.mark.parametrize("bad", [{1: "x"}, {"a": {1, 2}}, object(), b"bytes"])
def test_unencodable_values_are_refused_with_a_path(bad: Any) -> None:
    with pytest.raises(TypeError, match="metadata"):
        pack(bad)


# Bytes shaped like header data (flags, key id, nonce, packed metadata, maybe stray bytes),
# so that the garbage below also holds headers that parse, and near misses.
header_shaped = st.builds(
    lambda flags, key_id, nonce, metadata, tail: bytes([flags]) + key_id + nonce + metadata + tail,
    st.integers(0, 3),
    st.just(bytes(4)) | st.binary(min_size=4, max_size=4),
    st.binary(min_size=8, max_size=8),
    st.dictionaries(st.text(max_size=8), json_scalars, max_size=4).map(pack)
    | st.binary(max_size=8),
    st.just(b"") | st.binary(max_size=3),
)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200) | header_shaped)
def test_garbage_never_decodes_into_anything_but_payload_error(data: bytes) -> None:
    # Any other exception fails the test; what does decode is what a writer writes.
    try:
        value = unpack(data)
    except PayloadError:
        pass
    else:
        assert pack(value) == data
    try:
        header = HeaderData.parse(data)
    except PayloadError:
        pass
    else:
        assert header.raw == data and isinstance(header.metadata, dict)
        assert header.signed == bool(data[0]) and header.key_id == data[1:5]
        assert header.nonce == data[5:13]
        assert pack(header.metadata) == header.packed_metadata
        rebuilt = HeaderData.build(
            header.metadata, signed=header.signed, key_id=header.key_id, nonce=header.nonce
        )
        assert rebuilt.raw == data


def test_deep_nesting_is_refused_both_ways() -> None:
    value: Any = 1
    for _ in range(40):
        value = [value]
    with pytest.raises(ValueError, match="deeper"):
        pack(value)
    with pytest.raises(PayloadError):
        unpack(bytes([0x11]) * 40 + bytes([0x40]))


def test_forged_counts_do_not_allocate() -> None:
    with pytest.raises(PayloadError):
        unpack(bytes([0x08, 0xFF, 0xFF, 0xFF, 0x7F]))


def test_frames_are_found_among_foreign_selectors() -> None:
    frame = encode_frame(1, b"body")
    text = "a❤\ufe0f" + "\U000e0100" + frame + "\ufe0f" + "b"
    (found,) = scan_frames(text)
    assert text[found.start : found.end] == frame
    assert found.kind == 1 and found.body(text) == b"body"


SELECTORS_AND_LETTERS = bytes_to_selectors(bytes(range(256))) + "ab "
# Selectors, letters and whole frames of every kind, so that scanning meets real frames too.
selector_texts = st.text(alphabet=st.sampled_from(SELECTORS_AND_LETTERS)) | st.lists(
    st.sampled_from(SELECTORS_AND_LETTERS)
    | st.builds(encode_frame, st.sampled_from(KINDS), st.binary(max_size=40)),
    max_size=40,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(selector_texts)
def test_scanning_arbitrary_selectors_never_fails(text: str) -> None:
    frames = scan_frames(text)
    assert all(f.end <= g.start for f, g in itertools.pairwise(frames))
    for raw in frames:
        # Each frame found is one a writer writes: magic, type, shortest length, body.
        assert 0 <= raw.start < raw.body_start <= raw.end <= len(text)
        assert raw.kind in KINDS
        body = raw.body(text)
        assert raw.raw(text) == frame_bytes(raw.kind, body)
        found = classify(text, raw)
        if raw.kind == KIND_HEADER:
            fits = len(body) > PIECE_PREFIX and body[REF_SIZE] < body[REF_SIZE + 1]
            assert (found is None) == (not fits)
            if found is not None:
                assert isinstance(found, HeaderPiece) and found.frame == raw
                assert found.ref == body[:REF_SIZE]
                assert (found.index, found.count) == (body[REF_SIZE], body[REF_SIZE + 1])
        else:
            signed = raw.kind == KIND_TRAILER
            fits = len(body) >= REF_SIZE + (TAG_SIZE if signed else 0)
            assert (found is None) == (not fits)
            if found is not None:
                assert isinstance(found, Trailer) and found.frame == raw
                assert found.ref == body[:REF_SIZE] and found.signed == signed


def test_scanning_a_megabyte_of_selectors_examines_each_candidate_once() -> None:
    # A megabyte of emoji selectors, of fake magics, of magics whose declared lengths
    # overrun the run, and of every selector: the work is bounded by the candidate budget
    # (see test_embedding_scanner.py for the crafted cases past it).
    magic = bytes_to_selectors(MAGIC)
    fake_header = bytes_to_selectors(MAGIC + bytes([0x11, 0xFF, 0xFF, 0x03]))
    for text in (
        "\ufe0f" * 1_000_000,
        magic * 500_000,
        fake_header * 160_000,
        bytes_to_selectors(bytes(range(256))) * 4_000,
    ):
        found = scan(text)
        assert found.examined <= candidate_budget(len(text))
        assert all(f.end <= g.start for f, g in itertools.pairwise(found.frames))


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=250, max_size=3000))
def test_long_runs_convert_like_short_ones(data: bytes) -> None:
    text = bytes_to_selectors(data)
    assert selectors_to_bytes(text) == data
    assert b"".join(selectors_to_bytes(text[i : i + 100]) for i in range(0, len(text), 100)) == data
    with pytest.raises(ValueError):
        selectors_to_bytes(text + "a")
