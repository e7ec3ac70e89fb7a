"""Bytes as invisible characters, and finding our frames in a text.

Each byte value 0–255 maps to one of the 256 Unicode variation selectors:

- bytes ``0x00``–``0x0F`` → U+FE00–U+FE0F (the BMP selectors),
- bytes ``0x10``–``0xFF`` → U+E0100–U+E01EF (the supplementary selectors).

A *frame* is one self-delimiting run of selectors that we wrote::

    MAGIC (2 bytes) | type (1 byte: version << 4 | kind) | body length (varint, ≤ 3 bytes) | body

The magic lets :func:`scan_frames` skip selector runs that were already in the text (emoji
presentation selectors such as the one in ❤️, ideographic variation sequences); the explicit
length lets it find where a frame ends even when other selectors touch it. What the body
means is :mod:`.payload`'s business; this module only moves bytes and finds frames.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MAX_BODY",
    "SELECTOR_RUN",
    "RawFrame",
    "bytes_to_selectors",
    "encode_frame",
    "encode_varint",
    "is_selector",
    "scan_frames",
    "selectors_to_bytes",
]

FORMAT_VERSION = 1

# Two bytes that are not the selectors text normally carries (U+FE0E/U+FE0F are bytes
# 0x0E/0x0F, the common ideographic variation selectors are bytes 0x10–0x12), and that
# differ from each other so a foreign selector just before a frame cannot shift the match.
MAGIC = b"\x9e\x4d"

# A body longer than this is refused: metadata is meant to be small, and the bound keeps a
# forged length from making the scanner look far ahead.
MAX_BODY = 0xFFFF


def _selector(byte: int) -> str:
    return chr(0xFE00 + byte) if byte < 16 else chr(0xE0100 + byte - 16)


_BYTE_TO_SELECTOR: tuple[str, ...] = tuple(_selector(b) for b in range(256))
# str.translate tables: latin-1 character <-> selector, so whole runs convert in C.
_LATIN1_TO_SELECTOR: dict[int, str] = {b: _BYTE_TO_SELECTOR[b] for b in range(256)}
_SELECTOR_TO_LATIN1: dict[int, str] = {ord(_BYTE_TO_SELECTOR[b]): chr(b) for b in range(256)}
_SELECTOR_TO_BYTE: dict[str, int] = {_BYTE_TO_SELECTOR[b]: b for b in range(256)}

SELECTOR_RUN = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]+")

_MAGIC_TEXT = _BYTE_TO_SELECTOR[MAGIC[0]] + _BYTE_TO_SELECTOR[MAGIC[1]]
# Frame kinds 1..15 of the current version; a frame start is the magic plus a type selector.
_FRAME_START = re.compile(
    re.escape(_MAGIC_TEXT)
    + "["
    + "".join(_BYTE_TO_SELECTOR[(FORMAT_VERSION << 4) | kind] for kind in range(1, 16))
    + "]"
)


def is_selector(char: str) -> bool:
    """Whether ``char`` (one character) is one of the 256 variation selectors."""
    cp = ord(char)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def bytes_to_selectors(data: bytes) -> str:
    """The invisible text for ``data``: one selector per byte."""
    return data.decode("latin-1").translate(_LATIN1_TO_SELECTOR)


def selectors_to_bytes(text: str) -> bytes:
    """The bytes behind a run of selectors.

    Raises ``ValueError`` when ``text`` holds anything but selectors.
    """
    if text and SELECTOR_RUN.fullmatch(text) is None:
        raise ValueError("not a run of variation selectors")
    return text.translate(_SELECTOR_TO_LATIN1).encode("latin-1")


def encode_varint(n: int) -> bytes:
    """``n`` (≥ 0) as a little-endian base-128 varint, 7 bits per byte."""
    if n < 0:
        raise ValueError("varints are unsigned")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode_frame(kind: int, body: bytes) -> str:
    """The selectors of one frame of ``kind`` (1–15) carrying ``body``."""
    if not 1 <= kind <= 15:
        raise ValueError(f"frame kind must be 1..15, got {kind}")
    if len(body) > MAX_BODY:
        raise ValueError(f"frame body is {len(body)} bytes; the limit is {MAX_BODY}")
    raw = MAGIC + bytes([(FORMAT_VERSION << 4) | kind]) + encode_varint(len(body)) + body
    return bytes_to_selectors(raw)


class RawFrame(NamedTuple):
    """One frame found in a text: where it sits (``text[start:end]``), its kind and body."""

    start: int
    end: int
    kind: int
    body: bytes


def scan_frames(text: str) -> list[RawFrame]:
    """Every well-formed frame in ``text``, in order.

    Linear in ``len(text)``: the magic is searched by the regex engine, each selector run is
    measured once, and a candidate is either rejected after reading at most six selectors or
    accepted and skipped over whole. Selectors that belong to no frame are left alone.
    """
    frames: list[RawFrame] = []
    search = _FRAME_START.search
    run_end = -1
    lookup = _SELECTOR_TO_BYTE.get
    match = search(text)
    while match is not None:
        start = match.start()
        if start >= run_end:
            # Measure the selector run this candidate sits in once; later candidates in the
            # same run reuse it, so a run full of fake magics is still read once.
            run = SELECTOR_RUN.match(text, start)
            run_end = run.end() if run is not None else start
        kind_byte = lookup(text[start + 2], 0) & 0x0F
        # Body length: a varint of at most three selectors.
        pos = start + 3
        length = 0
        shift = 0
        ok = False
        for _ in range(3):
            if pos >= run_end:
                break
            byte = lookup(text[pos])
            if byte is None:
                break
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                ok = True
                break
        end = pos + length
        if ok and length <= MAX_BODY and end <= run_end:
            body = text[pos:end].translate(_SELECTOR_TO_LATIN1).encode("latin-1")
            frames.append(RawFrame(start, end, kind_byte, body))
            match = search(text, end)
        else:
            match = search(text, start + 1)
    return frames
