"""The binary payload: a header (split into one or more pieces) and a trailer.

Header data (what the pieces carry, concatenated)::

    flags (1: bit 0 = signed) | key id (4) | nonce (8) | metadata (compact dict, see .compact)

Header piece frame body (frame kind 1)::

    ref (4 = nonce[:4]) | index (1) | count (1) | a slice of the header data

Trailer frame body (kind 2 signed, kind 3 unsigned)::

    ref (4) | extra metadata (compact dict, or nothing) | tag (16, signed only)

The ref ties pieces and trailer of one signature together, so that an older signed text
quoted inside a new one keeps its own frames apart. The trailer carries the metadata only
known at the end of a stream (e.g. which providers contributed text); extraction merges it
over the header's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .codec import RawFrame, encode_frame
from .compact import PayloadError, pack, unpack

__all__ = [
    "KEY_ID_SIZE",
    "KIND_HEADER",
    "KIND_TRAILER",
    "KIND_TRAILER_UNSIGNED",
    "NONCE_SIZE",
    "REF_SIZE",
    "TAG_SIZE",
    "HeaderData",
    "HeaderPiece",
    "Trailer",
    "encode_extras",
    "header_frames",
    "parse_frame",
    "trailer_frame",
]

KIND_HEADER = 1
KIND_TRAILER = 2
KIND_TRAILER_UNSIGNED = 3

FLAG_SIGNED = 0x01
KEY_ID_SIZE = 4
NONCE_SIZE = 8
REF_SIZE = 4
# HMAC-SHA256 truncated to 128 bits: forging still takes ~2**128 guesses, and every byte
# saved here is one invisible character less in every signed text.
TAG_SIZE = 16
_FIXED = 1 + KEY_ID_SIZE + NONCE_SIZE
# The default size of one piece when the header is spread over several targets.
SPREAD_PIECE_SIZE = 16


@dataclass(frozen=True, slots=True)
class HeaderData:
    """The decoded header: who signed, with which nonce, and the metadata."""

    signed: bool
    key_id: bytes
    nonce: bytes
    metadata: dict[str, Any]
    raw: bytes

    @property
    def ref(self) -> bytes:
        return self.nonce[:REF_SIZE]

    @property
    def packed_metadata(self) -> bytes:
        return self.raw[_FIXED:]

    @classmethod
    def build(
        cls, metadata: dict[str, Any], *, signed: bool, key_id: bytes, nonce: bytes
    ) -> HeaderData:
        if len(key_id) != KEY_ID_SIZE or len(nonce) != NONCE_SIZE:
            raise ValueError("key id must be 4 bytes and nonce 8 bytes")
        packed = pack(metadata)
        raw = bytes([FLAG_SIGNED if signed else 0]) + key_id + nonce + packed
        # Keep the decoded form, not the caller's dict: it may change after sealing.
        return cls(signed, key_id, nonce, unpack(packed), raw)

    @classmethod
    def parse(cls, raw: bytes) -> HeaderData:
        if len(raw) <= _FIXED:
            raise PayloadError("header too short")
        flags = raw[0]
        if flags & ~FLAG_SIGNED:
            raise PayloadError(f"unknown header flags 0x{flags:02x}")
        metadata = unpack(raw[_FIXED:])
        if not isinstance(metadata, dict):
            raise PayloadError("header metadata is not a dict")
        return cls(
            bool(flags & FLAG_SIGNED),
            raw[1 : 1 + KEY_ID_SIZE],
            raw[1 + KEY_ID_SIZE : _FIXED],
            metadata,
            raw,
        )


@dataclass(frozen=True, slots=True)
class HeaderPiece:
    """One header frame found in a text."""

    start: int
    end: int
    ref: bytes
    index: int
    count: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Trailer:
    """The trailer frame found in a text."""

    start: int
    end: int
    ref: bytes
    signed: bool
    extras_raw: bytes
    extras: dict[str, Any]
    tag: bytes


def header_frames(header: HeaderData, piece_size: int | None) -> list[str]:
    """The header as invisible frames: one, or pieces of ``piece_size`` bytes to spread."""
    data = header.raw
    # At most 255 pieces (the count is one byte): a big header gets bigger pieces.
    size = len(data) if piece_size is None else max(piece_size, -(-len(data) // 255))
    count = -(-len(data) // size)
    ref = header.ref
    return [
        encode_frame(KIND_HEADER, ref + bytes((i, count)) + data[i * size : (i + 1) * size])
        for i in range(count)
    ]


def encode_extras(extras: dict[str, Any]) -> bytes:
    """The trailer's extra metadata; nothing at all when there is none."""
    return pack(extras, "extra metadata") if extras else b""


def trailer_frame(ref: bytes, extras_raw: bytes, tag: bytes | None) -> str:
    """The invisible trailer: ``tag`` None for an unsigned payload."""
    if tag is None:
        return encode_frame(KIND_TRAILER_UNSIGNED, ref + extras_raw)
    return encode_frame(KIND_TRAILER, ref + extras_raw + tag)


def parse_frame(frame: RawFrame) -> HeaderPiece | Trailer | None:
    """What a raw frame is, or None when it is damaged or of a kind this version ignores."""
    body = frame.body
    try:
        if frame.kind == KIND_HEADER:
            if len(body) <= REF_SIZE + 2:
                return None
            index, count = body[REF_SIZE], body[REF_SIZE + 1]
            if index >= count:
                return None
            return HeaderPiece(
                frame.start, frame.end, body[:REF_SIZE], index, count, body[REF_SIZE + 2 :]
            )
        if frame.kind in (KIND_TRAILER, KIND_TRAILER_UNSIGNED):
            signed = frame.kind == KIND_TRAILER
            tag_size = TAG_SIZE if signed else 0
            if len(body) < REF_SIZE + tag_size:
                return None
            extras_raw = body[REF_SIZE : len(body) - tag_size]
            extras: Any = unpack(extras_raw) if extras_raw else {}
            if not isinstance(extras, dict):
                return None
            return Trailer(
                frame.start,
                frame.end,
                body[:REF_SIZE],
                signed,
                extras_raw,
                extras,
                body[len(body) - tag_size :] if signed else b"",
            )
    except PayloadError:
        return None
    return None
