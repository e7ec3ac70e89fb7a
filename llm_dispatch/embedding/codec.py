"""Bytes as invisible characters, and the frame that carries them.

Each byte value 0–255 maps to one of the 256 Unicode variation selectors:

- bytes ``0x00``–``0x0F`` → U+FE00–U+FE0F (the BMP selectors),
- bytes ``0x10``–``0xFF`` → U+E0100–U+E01EF (the supplementary selectors).

A *frame* is one self-delimiting run of selectors that we wrote::

    MAGIC (2 bytes) | type (1 byte: version << 4 | kind) | body length (varint, ≤ 3 bytes) | body

The magic lets the scanner (:mod:`.scanner`) skip selector runs that were already in the
text (emoji presentation selectors such as the one in ❤️, ideographic variation sequences);
the explicit length lets it find where a frame ends even when other selectors touch it.

Every field has exactly one encoding: the magic is fixed, the type byte names one of the
kinds this version defines, and the length is the shortest varint for its value. A reader
refuses anything else, so two different selector runs never read as the same frame. What
the body means is :mod:`.payload`'s business; this module only moves bytes.
"""

from __future__ import annotations

import re

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "KIND_HEADER",
    "KIND_TRAILER",
    "KIND_TRAILER_UNSIGNED",
    "MAGIC",
    "MAGIC_TEXT",
    "MAX_BODY",
    "SELECTOR_RUN",
    "bytes_to_selectors",
    "decode_varint",
    "encode_frame",
    "encode_varint",
    "frame_bytes",
    "frame_head",
    "is_selector",
    "selector_byte",
    "selectors_to_bytes",
    "type_byte",
]

FORMAT_VERSION = 1

#: The frame kinds this version writes and reads: a header piece, a signed trailer, an
#: unsigned trailer. Any other type byte does not start a frame.
KIND_HEADER = 1
KIND_TRAILER = 2
KIND_TRAILER_UNSIGNED = 3
KINDS = (KIND_HEADER, KIND_TRAILER, KIND_TRAILER_UNSIGNED)

# Two bytes that are not the selectors text normally carries (U+FE0E/U+FE0F are bytes
# 0x0E/0x0F, the common ideographic variation selectors are bytes 0x10–0x12), and that
# differ from each other so a foreign selector just before a frame cannot shift the match.
MAGIC = b"\x9e\x4d"

# A body longer than this is refused: metadata is meant to be small, and the bound keeps a
# forged length from making the scanner look far ahead. Its varint takes at most 3 bytes.
MAX_BODY = 0xFFFF


def _selector(byte: int) -> str:
    return chr(0xFE00 + byte) if byte < 16 else chr(0xE0100 + byte - 16)


_BYTE_TO_SELECTOR: tuple[str, ...] = tuple(_selector(b) for b in range(256))
# str.translate tables: latin-1 character <-> selector, so whole runs convert in C.
_LATIN1_TO_SELECTOR: dict[int, str] = {b: _BYTE_TO_SELECTOR[b] for b in range(256)}
_SELECTOR_TO_LATIN1: dict[int, str] = {ord(_BYTE_TO_SELECTOR[b]): chr(b) for b in range(256)}
_SELECTOR_TO_BYTE: dict[str, int] = {_BYTE_TO_SELECTOR[b]: b for b in range(256)}

SELECTOR_RUN = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]+")

#: The magic as it appears in a text.
MAGIC_TEXT = _BYTE_TO_SELECTOR[MAGIC[0]] + _BYTE_TO_SELECTOR[MAGIC[1]]


def type_byte(kind: int) -> int:
    """The type byte of a frame of ``kind`` in this format version."""
    return (FORMAT_VERSION << 4) | kind


def selector_byte(char: str) -> int:
    """The byte behind one selector character (``KeyError`` for any other character)."""
    return _SELECTOR_TO_BYTE[char]


def is_selector(char: str) -> bool:
    """Whether ``char`` (one character) is one of the 256 variation selectors."""
    cp = ord(char)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def bytes_to_selectors(data: bytes) -> str:
    """The invisible text for ``data``: one selector per byte."""
    return data.decode("latin-1").translate(_LATIN1_TO_SELECTOR)


# In UTF-32-LE a selector is (low byte, plane byte, 0x0E or 0x00, 0x00): U+FE00+b gives
# (b, 0xFE, ...) and U+E0100+(b-16) gives (b-16, 0x01, ...). Byte b is therefore the low
# byte plus 0 or 16 according to the plane byte, and that sum never carries (b-16 ≤ 0xEF).
_PLANE_OFFSET = bytes.maketrans(b"\xfe\x01", b"\x00\x10")
# Below this many selectors str.translate is faster than the arithmetic above.
_WIDE_RUN = 256


def selectors_to_bytes(text: str) -> bytes:
    """The bytes behind a run of selectors.

    Raises ``ValueError`` when ``text`` holds anything but selectors.
    """
    if text and SELECTOR_RUN.fullmatch(text) is None:
        raise ValueError("not a run of variation selectors")
    if len(text) < _WIDE_RUN:
        return text.translate(_SELECTOR_TO_LATIN1).encode("latin-1")
    # Long runs (the largest header is 60,000 selectors) in C: see _PLANE_OFFSET.
    wide = text.encode("utf-32-le")
    low = int.from_bytes(wide[0::4], "little")
    offset = int.from_bytes(wide[1::4].translate(_PLANE_OFFSET), "little")
    return (low + offset).to_bytes(len(text), "little")


def encode_varint(n: int) -> bytes:
    """``n`` (≥ 0) as a little-endian base-128 varint, 7 bits per byte, in as few bytes as
    the value needs (the only encoding :func:`decode_varint` accepts)."""
    if n < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_varint(data: bytes, pos: int = 0, max_bytes: int = 10) -> tuple[int, int]:
    """The varint at ``data[pos:]`` and the position after it.

    Only the shortest encoding of a value is accepted: a varint of more than one byte whose
    last byte is zero (a redundant high group) raises ``ValueError``, as do a varint that
    runs past ``data`` or takes more than ``max_bytes`` bytes.
    """
    n = 0
    shift = 0
    for i in range(max_bytes):
        if pos >= len(data):
            raise ValueError("varint runs past the end of the data")
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            if byte == 0 and i > 0:
                raise ValueError("varint is not in its shortest form")
            return n, pos
        shift += 7
    raise ValueError(f"varint longer than {max_bytes} bytes")


def frame_head(kind: int, body_length: int) -> bytes:
    """The bytes that open a frame of ``kind`` whose body is ``body_length`` bytes long."""
    if kind not in KINDS:
        raise ValueError(f"frame kind must be one of {KINDS}, got {kind}")
    if not 0 <= body_length <= MAX_BODY:
        raise ValueError(f"frame body is {body_length} bytes; the limit is {MAX_BODY}")
    return MAGIC + bytes([type_byte(kind)]) + encode_varint(body_length)


def frame_bytes(kind: int, body: bytes) -> bytes:
    """The bytes of one frame of ``kind`` carrying ``body``."""
    return frame_head(kind, len(body)) + body


def encode_frame(kind: int, body: bytes) -> str:
    """The selectors of one frame of ``kind`` carrying ``body``."""
    return bytes_to_selectors(frame_bytes(kind, body))
