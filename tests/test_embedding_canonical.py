"""One encoding only: a text whose invisible bytes differ from what the signer wrote, in
any way, never verifies; and every decoder refuses what its encoder would not write."""

from __future__ import annotations

import contextlib
import itertools
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_dispatch.embedding import StreamingHandler, VerifyStatus
from llm_dispatch.embedding.codec import (
    MAGIC,
    bytes_to_selectors,
    decode_varint,
    encode_varint,
    selectors_to_bytes,
    type_byte,
)
from llm_dispatch.embedding.compact import pack, unpack
from llm_dispatch.embedding.locate import locate
from llm_dispatch.embedding.payload import HeaderData, read_extras
from llm_dispatch.embedding.scanner import scan_frames
from llm_dispatch.embedding.timestamps import TIMESPECS, read_iso, render_iso
from llm_dispatch.embedding.verify import extract, verify
from llm_dispatch.errors import PayloadError

KEY = "canonical-key"
TEXT = "The quick brown fox jumps over the lazy dog, twice over."
METADATA = {"model": "gpt-4", "note": "a note long enough to need several pieces", "n": 7}


def sign(*, spread: bool = False, extras: dict[str, Any] | None = None) -> str:
    handler = StreamingHandler(METADATA, hmac_secret_key=KEY, encode_first_chunk_only=not spread)
    out = [handler.process_chunk(TEXT[:20])]
    if extras:
        handler.update_metadata(extras)
    out.append(handler.process_chunk(TEXT[20:], is_final=True))
    return "".join(out)


def frame_parts(text: str, start: int, end: int) -> tuple[bytes, int, bytes]:
    """(magic + type, the length as written, body) of the frame ``text[start:end]``."""
    raw = selectors_to_bytes(text[start:end])
    length, body_at = decode_varint(raw, 3, max_bytes=3)
    return raw[:3], length, raw[body_at:]


def rewrite(text: str, span: tuple[int, int], raw: bytes) -> str:
    return text[: span[0]] + bytes_to_selectors(raw) + text[span[1] :]


# -- varints --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value"), [(b"\x00", 0), (b"\x7f", 127), (b"\x80\x01", 128), (b"\xff\x7f", 16383)]
)
def test_shortest_varints_decode(data: bytes, value: int) -> None:
    assert decode_varint(data) == (value, len(data))
    assert encode_varint(value) == data


@pytest.mark.parametrize("data", [b"\x80\x00", b"\x85\x00", b"\x80\x80\x00", b"\xff\x80\x00"])
def test_varints_with_a_redundant_high_group_are_refused(data: bytes) -> None:
    with pytest.raises(ValueError, match="shortest"):
        decode_varint(data)


@given(st.integers(min_value=0, max_value=2**64))
def test_every_varint_round_trips(n: int) -> None:
    data = encode_varint(n)
    assert decode_varint(data + b"tail") == (n, len(data))


# -- frames ---------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["header", "trailer"])
def test_a_frame_length_written_the_long_way_does_not_verify(which: str) -> None:
    signed = sign()
    result = verify(signed, KEY)
    assert result.valid
    span = result.header_spans[0] if which == "header" else result.trailer_span
    assert span is not None
    head, length, body = frame_parts(signed, *span)
    # The same length with a redundant zero group: one more selector, same value.
    longer = encode_varint(length)[:-1] + bytes([encode_varint(length)[-1] | 0x80, 0x00])
    forged = rewrite(signed, span, head + longer + body)
    assert forged != signed
    assert selectors_to_bytes(forged[span[0] : span[1] + 1])[3:].startswith(longer)
    assert not verify(forged, KEY).valid


def test_a_header_cut_into_pieces_differently_does_not_verify() -> None:
    signed = sign(spread=True)
    result = verify(signed, KEY)
    assert result.valid and len(result.header_spans) >= 2
    first, second = result.header_spans[0], result.header_spans[1]
    head0, _, body0 = frame_parts(signed, *first)
    head1, _, body1 = frame_parts(signed, *second)
    # Move the first data byte of piece 1 to the end of piece 0: same data, same places.
    moved = body1[6:7]
    new0 = body0 + moved
    new1 = body1[:6] + body1[7:]
    forged = rewrite(signed, second, head1 + encode_varint(len(new1)) + new1)
    forged = rewrite(forged, first, head0 + encode_varint(len(new0)) + new0)
    found = locate(forged)
    assert found is not None and found.header is not None
    assert found.header.raw == locate(signed).header.raw  # type: ignore[union-attr]
    assert verify(forged, KEY).status is VerifyStatus.TAMPERED


def test_every_single_selector_change_inside_the_payload_is_caught() -> None:
    """Exhaustive over the payload's positions: replace each selector by a few others,
    insert one before it, delete it — never valid."""
    for signed in (sign(), sign(spread=True, extras={"late": 1})):
        result = verify(signed, KEY)
        assert result.valid
        assert result.trailer_span is not None
        spans = [*result.header_spans, result.trailer_span]
        positions = [i for start, end in spans for i in range(start, end)]
        for i in positions:
            byte = selectors_to_bytes(signed[i])[0]
            for other in {byte ^ 1, byte ^ 0x80, (byte + 1) % 256, 0}:
                if other != byte:
                    edited = signed[:i] + bytes_to_selectors(bytes([other])) + signed[i + 1 :]
                    assert not verify(edited, KEY).valid, (i, byte, other)
            inserted = signed[:i] + bytes_to_selectors(bytes([byte])) + signed[i:]
            assert not verify(inserted, KEY).valid, i
            assert not verify(signed[:i] + signed[i + 1 :], KEY).valid, i


def test_frames_of_kinds_this_version_does_not_define_are_not_frames() -> None:
    for kind in (0, 4, 15):
        text = "a" + bytes_to_selectors(MAGIC + bytes([type_byte(kind), 1, 0x41])) + "b"
        assert scan_frames(text) == []
    other_version = "a" + bytes_to_selectors(MAGIC + bytes([0x21, 1, 0x41])) + "b"
    assert scan_frames(other_version) == []


def test_scanner_refuses_lengths_not_in_their_shortest_form() -> None:
    for length in (b"\x81\x00", b"\x80\x80\x01", b"\xff\xff\x04"):  # last: above MAX_BODY
        raw = MAGIC + bytes([type_byte(1)]) + length + bytes(200)
        assert scan_frames(bytes_to_selectors(raw)) == []
    raw = MAGIC + bytes([type_byte(1)]) + b"\x81\x01" + bytes(129)
    assert len(scan_frames(bytes_to_selectors(raw))) == 1


# -- header and trailer fields --------------------------------------------------------


def header_data(flags: int = 1, key_id: bytes = b"kid!", metadata: bytes = b"\x20") -> bytes:
    return bytes([flags]) + key_id + b"nonce-8b" + metadata


def test_header_fields_have_one_spelling() -> None:
    assert HeaderData.parse(header_data()).signed
    assert not HeaderData.parse(header_data(0, bytes(4))).signed
    for bad in (
        header_data(0, b"kid!"),  # unsigned, yet a key id
        header_data(3),  # unknown flag bit
        header_data(metadata=b"\x09\x00"),  # {} with its count in the long form
        header_data(metadata=b"\x20\x00"),  # a stray byte
    ):
        with pytest.raises(PayloadError):
            HeaderData.parse(bad)
    with pytest.raises(ValueError, match="no key id"):
        HeaderData.build({}, signed=False, key_id=b"kid!", nonce=b"nonce-8b")


def test_trailer_extras_written_as_an_empty_dict_are_refused() -> None:
    handler = StreamingHandler({"m": 1}, hmac_secret_key=KEY, sign=False)
    unsigned = handler.process_chunk("some text", is_final=True)
    result = verify(unsigned, KEY)
    assert result.status is VerifyStatus.UNSIGNED and result.trailer_span is not None
    head, _, body = frame_parts(unsigned, *result.trailer_span)
    assert body == body[:4]  # ref only: no extras are written as nothing
    spelt = body + pack({})
    forged = rewrite(unsigned, result.trailer_span, head + encode_varint(len(spelt)) + spelt)
    with pytest.raises(PayloadError, match="non-empty dict"):
        read_extras(pack({}))
    found = locate(forged)
    assert found is not None and found.extras_raw == pack({})
    assert found.extras is None  # refused: it does not count as "no extras"
    assert extract(forged) == {"m": 1}  # the header's metadata, nothing merged over it
    forged_result = verify(forged, KEY)
    assert forged_result.status is VerifyStatus.UNSIGNED and forged_result.extras == {}


# -- compact metadata -----------------------------------------------------------------

F64 = struct.Struct(">d")
F32 = struct.Struct(">f")

NON_CANONICAL = {
    "known string spelt out": bytes([0x85]) + b"model",
    "short string in the long form": bytes([0x07, 0x03]) + b"abc",
    "string length with a redundant group": bytes([0x07, 0xC0, 0x00]) + b"x" * 64,
    "small int in the long form": bytes([0x05, 0x05]),
    "int with a redundant varint group": bytes([0x05, 0xC0, 0x00]),
    "negative int with a redundant group": bytes([0x06, 0x80, 0x00]),
    "short list in the long form": bytes([0x08, 0x02, 0x40, 0x40]),
    "short dict in the long form": bytes([0x09, 0x01, 0x81]) + b"a" + bytes([0x40]),
    "dict with a repeated key": bytes([0x22, 0x81]) + b"a" + bytes([0x40, 0x81]) + b"a\x41",
    "float64 that float32 holds": bytes([0x03]) + F64.pack(1.5),
    "NaN as float32": bytes([0x04]) + F32.pack(float("nan")),
    "hex form for a short hex string": bytes([0x0B, 0x03, 0xAB, 0xCD, 0xEF]),
    "hex string spelt out": bytes([0x88]) + b"deadbeef",
    "uuid spelt out": bytes([0x80 | 36]) + b"12345678-1234-1234-1234-123456789abc",
    "timestamp spelt out": bytes([0x80 | 20]) + b"2025-01-02T03:04:05Z",
    "timestamp with a zero microseconds field": bytes([0x0A, 0x08, 0x00, 0x00]),
    "timestamp in the seconds timespec": bytes([0x0A, 0x30, 0x00]),
    "timestamp Z without an offset": bytes([0x0A, 0x02, 0x00]),
    "timestamp hours-only, shorter than the encoder stores": bytes([0x0A, 0x10, 0x00]),
    "timestamp whose timespec drops digits": bytes([0x0A, 0x20, 0x02]),
}


@pytest.mark.parametrize("data", NON_CANONICAL.values(), ids=NON_CANONICAL.keys())
def test_non_canonical_compact_bytes_are_refused(data: bytes) -> None:
    with pytest.raises(PayloadError):
        unpack(data)


@settings(max_examples=400, deadline=None)
@given(
    st.binary(max_size=24)
    | st.lists(
        st.sampled_from([0x00, 0x03, 0x05, 0x07, 0x0A, 0x0B, 0x22, 0x40, 0x81, 0x91, 0xC2])
        | st.integers(0, 255),
        max_size=24,
    ).map(bytes)
)
def test_whatever_decodes_is_exactly_what_pack_writes(data: bytes) -> None:
    with contextlib.suppress(PayloadError):
        assert pack(unpack(data)) == data


def test_timestamp_reader_accepts_exactly_what_the_encoder_writes() -> None:
    """Every flag byte against a grid of fields, with re-encoding as the judge: the reader
    accepts the bytes if and only if packing the string they render gives them back."""
    seconds = [0, 59, 60, 3600, 86399, -1, -3600, 1_735_787_045, -62_135_596_800]
    micros = [0, 1, 1000, 123_000, 999_999]
    offsets = [0, -1, 330, -1439]
    accepted = 0
    for flags, s, us, off in itertools.product(range(256), seconds, micros, offsets):
        if (us and not flags & 8) or (off and flags & 3 != 1):
            continue  # fields that are not written: covered by their zero value
        data = bytes([flags]) + encode_varint(s * 2 if s >= 0 else -s * 2 - 1)
        data += encode_varint(us) if flags & 8 else b""
        data += encode_varint(off * 2 if off >= 0 else -off * 2 - 1) if flags & 3 == 1 else b""
        expected = False
        if flags < 0x80 and flags >> 4 < len(TIMESPECS):
            with contextlib.suppress(ValueError):
                expected = pack(render_iso(flags, s, us, off)) == b"\x0a" + data
        try:
            text, end = read_iso(data, 0)
        except ValueError:
            assert not expected, (flags, s, us, off)
            continue
        assert expected, (flags, s, us, off, text)
        assert end == len(data) and unpack(b"\x0a" + data) == text
        accepted += 1
    assert accepted > 500


def test_metadata_larger_than_any_payload_we_write_is_not_decoded() -> None:
    from llm_dispatch.embedding.payload import MAX_HEADER_DATA, MAX_METADATA_BYTES, encode_extras

    big = pack({"blob": "x" * MAX_METADATA_BYTES})
    with pytest.raises(PayloadError, match="longer"):
        read_extras(big)
    with pytest.raises(PayloadError, match="longer"):
        HeaderData.parse(header_data(metadata=big))
    assert len(header_data(metadata=big)) > MAX_HEADER_DATA
    with pytest.raises(ValueError, match="limit"):
        encode_extras({"blob": "x" * MAX_METADATA_BYTES})
    with pytest.raises(ValueError, match="limit"):
        HeaderData.build(
            {"blob": "x" * MAX_METADATA_BYTES}, signed=True, key_id=b"kid!", nonce=b"nonce-8b"
        )
