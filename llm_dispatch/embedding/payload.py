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

Reading is strict, so that a payload has one encoding only: unknown flag bits, a key id
other than zeros in an unsigned header, metadata or extras not in the compact encoding's
canonical form, and extras written as an empty dict (no extras are written as nothing)
are all refused. How the header data is cut into pieces is the one free choice left to the
writer; the signature covers every byte of every frame, cut included (see :mod:`.signing`).

Classifying a frame reads only its first few bytes, and reading a header's fixed fields
(:class:`HeaderFields`) leaves its metadata packed: metadata is decoded only when someone
asks for it, so neither forged frames nor a forged payload's metadata cost more than being
found.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import PayloadError
from .codec import KIND_HEADER, KIND_TRAILER, KIND_TRAILER_UNSIGNED, frame_bytes, frame_head
from .compact import pack, unpack
from .scanner import RawFrame

__all__ = [
    "KEY_ID_SIZE",
    "KIND_HEADER",
    "KIND_TRAILER",
    "KIND_TRAILER_UNSIGNED",
    "MAX_HEADER_DATA",
    "MAX_METADATA_BYTES",
    "NONCE_SIZE",
    "PIECE_PREFIX",
    "REF_SIZE",
    "TAG_SIZE",
    "HeaderData",
    "HeaderFields",
    "HeaderPiece",
    "Trailer",
    "TrailerBytes",
    "classify",
    "encode_extras",
    "header_frames",
    "read_extras",
    "read_metadata",
    "trailer_bytes",
    "trailer_frame",
    "trailer_prefix",
]

FLAG_SIGNED = 0x01
KEY_ID_SIZE = 4
NONCE_SIZE = 8
REF_SIZE = 4
#: ref, index and count: what a header piece's body holds before its slice of the data.
PIECE_PREFIX = REF_SIZE + 2
# HMAC-SHA256 truncated to 128 bits: forging still takes ~2**128 guesses, and every byte
# saved here is one invisible character less in every signed text.
TAG_SIZE = 16
_FIXED = 1 + KEY_ID_SIZE + NONCE_SIZE
_NO_KEY_ID = bytes(KEY_ID_SIZE)
# The default size of one piece when the header is spread over several targets.
SPREAD_PIECE_SIZE = 16
#: Largest packed metadata accepted; keeps the header (and the trailer, which can only
#: repeat metadata keys) within one frame, and bounds what a reader decodes.
MAX_METADATA_BYTES = 60_000
#: Largest header data a reader reassembles.
MAX_HEADER_DATA = _FIXED + MAX_METADATA_BYTES


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
        if not signed and key_id != _NO_KEY_ID:
            raise ValueError("an unsigned header has no key id (four zero bytes)")
        packed = pack(metadata)
        if len(packed) > MAX_METADATA_BYTES:
            raise ValueError(
                f"metadata packs to {len(packed)} bytes; the limit is {MAX_METADATA_BYTES}"
            )
        raw = bytes([FLAG_SIGNED if signed else 0]) + key_id + nonce + packed
        # Keep the decoded form, not the caller's dict: it may change after sealing.
        return cls(signed, key_id, nonce, unpack(packed), raw)

    @classmethod
    def parse(cls, raw: bytes) -> HeaderData:
        """The header ``raw`` holds, metadata decoded (:class:`PayloadError` otherwise)."""
        fields = HeaderFields.parse(raw)
        return cls(fields.signed, fields.key_id, fields.nonce, read_metadata(fields), raw)


@dataclass(frozen=True, slots=True)
class HeaderFields:
    """A header read without decoding its metadata: what a verdict needs (the signature
    covers the metadata's bytes), at a cost that does not depend on the metadata."""

    signed: bool
    key_id: bytes
    nonce: bytes
    raw: bytes

    @property
    def ref(self) -> bytes:
        return self.nonce[:REF_SIZE]

    @property
    def packed_metadata(self) -> bytes:
        return self.raw[_FIXED:]

    @classmethod
    def parse(cls, raw: bytes) -> HeaderFields:
        """The fixed fields of the header ``raw`` holds; :class:`PayloadError` when they (or
        the size) are not what a writer of this version writes."""
        if len(raw) <= _FIXED:
            raise PayloadError("header too short")
        if len(raw) > MAX_HEADER_DATA:
            raise PayloadError("header longer than any header we write")
        flags = raw[0]
        if flags & ~FLAG_SIGNED:
            raise PayloadError(f"unknown header flags 0x{flags:02x}")
        key_id = raw[1 : 1 + KEY_ID_SIZE]
        signed = bool(flags & FLAG_SIGNED)
        if not signed and key_id != _NO_KEY_ID:
            raise PayloadError("an unsigned header carries a key id")
        return cls(signed, key_id, raw[1 + KEY_ID_SIZE : _FIXED], raw)


def read_metadata(header: HeaderFields) -> dict[str, Any]:
    """The header's metadata, decoded (:class:`PayloadError` unless a canonical dict)."""
    metadata = unpack(header.packed_metadata)
    if not isinstance(metadata, dict):
        raise PayloadError("header metadata is not a dict")
    return metadata


@dataclass(frozen=True, slots=True)
class HeaderPiece:
    """One header frame found in a text (its slice of the data is read on demand)."""

    frame: RawFrame
    ref: bytes
    index: int
    count: int

    @property
    def start(self) -> int:
        return self.frame.start

    @property
    def end(self) -> int:
        return self.frame.end

    @property
    def data_length(self) -> int:
        return self.frame.body_length - PIECE_PREFIX


@dataclass(frozen=True, slots=True)
class Trailer:
    """A trailer frame found in a text (its extras and tag are read on demand)."""

    frame: RawFrame
    ref: bytes
    signed: bool

    @property
    def start(self) -> int:
        return self.frame.start

    @property
    def end(self) -> int:
        return self.frame.end

    @property
    def tag_size(self) -> int:
        return TAG_SIZE if self.signed else 0


def classify(text: str, frame: RawFrame) -> HeaderPiece | Trailer | None:
    """What a frame of ``text`` is, from its first bytes; None when it is too short to be
    either (or a header piece whose index is not below its count)."""
    if frame.kind == KIND_HEADER:
        if frame.body_length <= PIECE_PREFIX:
            return None
        head = frame.body(text, PIECE_PREFIX)
        index, count = head[REF_SIZE], head[REF_SIZE + 1]
        if index >= count:
            return None
        return HeaderPiece(frame, head[:REF_SIZE], index, count)
    signed = frame.kind == KIND_TRAILER
    if frame.body_length < REF_SIZE + (TAG_SIZE if signed else 0):
        return None
    return Trailer(frame, frame.body(text, REF_SIZE), signed)


@dataclass(frozen=True, slots=True)
class TrailerBytes:
    """A trailer frame's bytes, in the parts a reader needs."""

    #: Everything before the tag (what the signature covers of the trailer).
    prefix: bytes
    #: The extra metadata, still packed.
    extras_raw: bytes
    #: The tag (empty for an unsigned trailer).
    tag: bytes


def trailer_bytes(text: str, trailer: Trailer) -> TrailerBytes:
    """The bytes of ``trailer``, read from ``text`` once."""
    raw = trailer.frame.raw(text)
    split = len(raw) - trailer.tag_size
    body_at = trailer.frame.body_start - trailer.start
    return TrailerBytes(raw[:split], raw[body_at + REF_SIZE : split], raw[split:])


def read_extras(extras_raw: bytes) -> dict[str, Any]:
    """The dict a trailer's extra metadata decodes to.

    Raises :class:`PayloadError` unless the bytes are exactly what :func:`encode_extras`
    writes.
    """
    if not extras_raw:
        return {}
    if len(extras_raw) > MAX_METADATA_BYTES:
        raise PayloadError("trailer extras longer than any we write")
    extras = unpack(extras_raw)
    if not isinstance(extras, dict) or not extras:
        # pack({}) decodes, but no extras are written as nothing: refuse the second spelling.
        raise PayloadError("trailer extras are not a non-empty dict")
    return extras


def header_frames(header: HeaderData, piece_size: int | None) -> list[bytes]:
    """The header as frames (their bytes): one, or pieces of ``piece_size`` bytes to spread."""
    data = header.raw
    # At most 255 pieces (the count is one byte): a big header gets bigger pieces.
    size = len(data) if piece_size is None else max(piece_size, -(-len(data) // 255))
    count = -(-len(data) // size)
    ref = header.ref
    return [
        frame_bytes(KIND_HEADER, ref + bytes((i, count)) + data[i * size : (i + 1) * size])
        for i in range(count)
    ]


def encode_extras(extras: dict[str, Any]) -> bytes:
    """The trailer's extra metadata; nothing at all when there is none."""
    packed = pack(extras, "extra metadata") if extras else b""
    if len(packed) > MAX_METADATA_BYTES:
        raise ValueError(
            f"extra metadata packs to {len(packed)} bytes; the limit is {MAX_METADATA_BYTES}"
        )
    return packed


def trailer_prefix(ref: bytes, extras_raw: bytes, *, signed: bool) -> bytes:
    """The trailer's bytes up to its tag: what the signature covers of it."""
    kind = KIND_TRAILER if signed else KIND_TRAILER_UNSIGNED
    body_length = REF_SIZE + len(extras_raw) + (TAG_SIZE if signed else 0)
    return frame_head(kind, body_length) + ref + extras_raw


def trailer_frame(ref: bytes, extras_raw: bytes, tag: bytes | None) -> bytes:
    """The trailer's bytes: ``tag`` None for an unsigned payload."""
    prefix = trailer_prefix(ref, extras_raw, signed=tag is not None)
    return prefix if tag is None else prefix + tag
