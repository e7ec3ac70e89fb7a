"""A small tagged binary encoding for JSON-like metadata.

Every invisible character costs the reader's clipboard four UTF-8 bytes, so the metadata is
packed tighter than JSON: one tag byte per value, with small integers, short strings, small
lists and dicts folded into the tag itself, and a table of common keys and values
(``model``, ``provider``, ``timestamp``, ``openai``, task types …) that cost one byte each.
Three string shapes that metadata is full of are stored by meaning and rebuilt exactly:
ISO-8601 timestamps, lowercase hex ids and canonical UUIDs. A string is only stored that way
when decoding gives back the very same string, so the encoding never changes a value.

Tag bytes::

    0x00 None   0x01 False   0x02 True   0x03 float64   0x04 float32
    0x05 int ≥ 64 (varint)   0x06 negative int (varint of -1 - n)
    0x07 str (varint length) 0x08 list (varint count)  0x09 dict (varint count)
    0x0A ISO-8601 timestamp  0x0B lowercase hex string 0x0C canonical UUID string
    0x10–0x1F list of 0–15   0x20–0x2F dict of 0–15
    0x40–0x7F int 0–63       0x80–0xBF str of 0–63 UTF-8 bytes
    0xC0–0xFF one of the 64 entries of ``KNOWN_STRINGS``

Accepted values: ``None``, ``bool``, ``int``, ``float``, ``str`` (and their subclasses, such as
``StrEnum`` members), ``list``/``tuple`` (decoded as lists), ``dict`` with ``str`` keys, and
``datetime``/``date`` (stored as their ``isoformat()`` string).

The encoding is canonical: :func:`pack` makes one choice for every value (the folded tag
whenever the size fits, a known string whenever one matches, the forms stored by meaning
whenever they rebuild the string, float32 whenever it holds the float exactly, varints in
their shortest form), and :func:`unpack` accepts only the bytes :func:`pack` writes for
the value they decode to. Each value is checked as it is read — re-encoding it would give
back the same bytes — so that bytes that decode but were not written that way (a varint
with a redundant high group, ``"model"`` spelt out, a count in the long form, a timestamp
with a needless field, a dict with a repeated key) raise
:class:`~llm_dispatch.errors.PayloadError`: one value has exactly one encoding. The tests
check the reader against re-encoding.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from ..errors import PayloadError
from .codec import decode_varint, encode_varint
from .timestamps import MIN_LENGTH as _MIN_ISO_LENGTH
from .timestamps import pack_iso, read_iso

__all__ = ["KNOWN_STRINGS", "pack", "pack_into", "unpack", "utc_timestamp"]


# Frozen for format version 1: changing this table changes what old payloads decode to.
KNOWN_STRINGS: tuple[str, ...] = (
    "model", "provider", "timestamp", "organization", "version", "request_id", "task_type",
    "model_id", "contributors", "cached", "user_id", "session_id", "source", "app", "author",
    "license", "created_at", "generator", "environment", "project", "tenant", "attempt",
    "openai", "anthropic", "google", "gemini", "function", "cache", "vllm", "ollama", "azure",
    "mistral", "text_generation", "code_generation", "translation", "summarization",
    "question_answering", "classification", "sentiment_analysis", "vision_analysis",
    "audio_transcription", "structured_output", "function_calling", "reasoning", "math",
    "gpt-4", "gpt-4o", "gpt-4o-mini", "1.0.0", "production", "staging", "development",
    "finish_reason", "stop", "length", "custom_metadata",
)  # fmt: skip
assert len(KNOWN_STRINGS) <= 64 and len(set(KNOWN_STRINGS)) == len(KNOWN_STRINGS)
_KNOWN_INDEX: dict[str, int] = {s: i for i, s in enumerate(KNOWN_STRINGS)}

_NONE, _FALSE, _TRUE, _F64, _F32, _UINT, _NINT, _STR, _LIST, _DICT = range(10)
_ISO, _HEX, _UUID = 0x0A, 0x0B, 0x0C
_LIST_SMALL, _DICT_SMALL, _INT_SMALL, _STR_SMALL, _KNOWN = 0x10, 0x20, 0x40, 0x80, 0xC0

MAX_DEPTH = 32

_F64_STRUCT = struct.Struct(">d")
_F32_STRUCT = struct.Struct(">f")

_ISO_PREFIX = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d")
_HEX_STRING = re.compile(r"(?:[0-9a-f]{2}){4,}")
_UUID_STRING = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Hex strings shorter than this are stored as they are.
_MIN_HEX_BYTES = 4


def _fits_f32(x: float) -> bool:
    """Whether float32 holds ``x`` exactly (NaN never: its payload bits could change)."""
    if math.isnan(x):
        return False
    try:
        short = _F32_STRUCT.pack(x)
    except OverflowError:  # beyond float32's range
        return False
    return bool(_F32_STRUCT.unpack(short)[0] == x)


def _compact_string(value: str) -> bytes | None:
    """``value`` in one of the forms stored by meaning (tag included), or None when none
    rebuilds it: the one place that decides which form a string takes."""
    n = len(value)
    if n >= _MIN_ISO_LENGTH:
        if n == 36 and _UUID_STRING.fullmatch(value):
            return bytes((_UUID,)) + bytes.fromhex(value.replace("-", ""))
        if _ISO_PREFIX.match(value):
            packed = pack_iso(value)
            if packed is not None:
                return bytes((_ISO,)) + packed
    if n >= 2 * _MIN_HEX_BYTES and _HEX_STRING.fullmatch(value):
        raw = bytes.fromhex(value)
        return bytes((_HEX,)) + encode_varint(len(raw)) + raw
    return None


def _pack_str(value: str, out: bytearray) -> None:
    index = _KNOWN_INDEX.get(value)
    if index is not None:
        out.append(_KNOWN | index)
        return
    compact = _compact_string(value)
    if compact is not None:
        out += compact
        return
    data = value.encode("utf-8", "surrogatepass")
    if len(data) < 64:
        out.append(_STR_SMALL | len(data))
    else:
        out.append(_STR)
        out += encode_varint(len(data))
    out += data


def pack_into(value: Any, out: bytearray, where: str = "metadata", depth: int = 0) -> None:
    """Append the encoding of ``value`` to ``out``; ``where`` names it in error messages."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if value is None:
        out.append(_NONE)
    elif value is True or value is False:
        out.append(_TRUE if value else _FALSE)
    elif isinstance(value, str):
        _pack_str(value, out)
    elif isinstance(value, int):
        n = int(value)
        if 0 <= n < 64:
            out.append(_INT_SMALL | n)
        elif n >= 0:
            out.append(_UINT)
            out += encode_varint(n)
        else:
            out.append(_NINT)
            out += encode_varint(-1 - n)
    elif isinstance(value, float):
        x = float(value)
        if _fits_f32(x):
            out.append(_F32)
            out += _F32_STRUCT.pack(x)
        else:
            out.append(_F64)
            out += _F64_STRUCT.pack(x)
    elif isinstance(value, Mapping):
        n = len(value)
        if n < 16:
            out.append(_DICT_SMALL | n)
        else:
            out.append(_DICT)
            out += encode_varint(n)
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys must be strings, got {type(key).__name__}")
            _pack_str(key, out)
            pack_into(item, out, f"{where}[{key!r}]", depth + 1)
    elif isinstance(value, list | tuple):
        n = len(value)
        if n < 16:
            out.append(_LIST_SMALL | n)
        else:
            out.append(_LIST)
            out += encode_varint(n)
        for i, item in enumerate(value):
            pack_into(item, out, f"{where}[{i}]", depth + 1)
    elif isinstance(value, datetime | date):
        _pack_str(value.isoformat(), out)
    else:
        raise TypeError(
            f"{where}: cannot embed a {type(value).__name__}; use str, int, float, bool, "
            "None, list, dict or datetime"
        )


def pack(value: Any, where: str = "metadata") -> bytes:
    """The compact encoding of ``value`` (see the module docstring for what is accepted)."""
    out = bytearray()
    pack_into(value, out, where)
    return bytes(out)


class _Reader:
    """A cursor over payload bytes whose every read is bounds-checked."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise PayloadError("payload ends in the middle of a value")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise PayloadError("payload ends in the middle of a value")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def varint(self) -> int:
        try:
            # 40 bytes (~2**280) is far past any value we write.
            n, self.pos = decode_varint(self.data, self.pos, max_bytes=40)
        except ValueError as exc:
            raise PayloadError(str(exc)) from None
        return n

    def count(self) -> int:
        # Every element takes at least one byte, so a count above what is left is a lie;
        # refusing it early stops a forged count from allocating a huge list.
        n = self.varint()
        if n > len(self.data) - self.pos:
            raise PayloadError("container count exceeds the payload")
        return n


def _spelt_out(value: str) -> bool:
    """Whether :func:`pack` writes ``value`` as UTF-8 (no known-string or compact form)."""
    return value not in _KNOWN_INDEX and _compact_string(value) is None


def _read_str(reader: _Reader, tag: int) -> str:
    # Each form is checked to be the one pack() picks for the string it decodes to.
    if tag >= _KNOWN:
        index = tag & 0x3F
        if index >= len(KNOWN_STRINGS):
            raise PayloadError(f"unknown string index {index}")
        return KNOWN_STRINGS[index]
    if tag == _HEX:
        size = reader.varint()
        if size < _MIN_HEX_BYTES:
            raise PayloadError("short hex string in the hex form")
        return reader.take(size).hex()
    if tag == _UUID:
        h = reader.take(16).hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    if tag == _ISO:
        try:
            text, reader.pos = read_iso(reader.data, reader.pos)
        except ValueError as exc:
            raise PayloadError(str(exc)) from None
        return text
    if _STR_SMALL <= tag < _KNOWN:
        data = reader.take(tag & 0x3F)
    elif tag == _STR:
        size = reader.varint()
        if size < 64:
            raise PayloadError("short string in the long form")
        data = reader.take(size)
    else:
        raise PayloadError(f"expected a string, found tag 0x{tag:02x}")
    try:
        value = data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise PayloadError("string is not UTF-8") from None
    if not _spelt_out(value):
        raise PayloadError("string spelt out that has a shorter form")
    return value


def _read_count(reader: _Reader, tag: int, long_tag: int, small_tag: int) -> int:
    if tag != long_tag:
        return tag - small_tag
    n = reader.count()
    if n < 16:
        raise PayloadError("short container in the long form")
    return n


def _read(reader: _Reader, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise PayloadError("payload nested too deeply")
    tag = reader.byte()
    if tag >= _STR_SMALL or tag in (_STR, _HEX, _UUID, _ISO):
        return _read_str(reader, tag)
    if tag >= _INT_SMALL:
        return tag & 0x3F
    if tag == _NONE:
        return None
    if tag == _FALSE:
        return False
    if tag == _TRUE:
        return True
    if tag == _UINT:
        n = reader.varint()
        if n < 64:
            raise PayloadError("small integer in the long form")
        return n
    if tag == _NINT:
        return -1 - reader.varint()
    if tag == _F64:
        x: float = _F64_STRUCT.unpack(reader.take(8))[0]
        if _fits_f32(x):
            raise PayloadError("float64 that float32 holds exactly")
        return x
    if tag == _F32:
        y: float = _F32_STRUCT.unpack(reader.take(4))[0]
        if math.isnan(y):
            raise PayloadError("NaN in the float32 form")
        return y
    if tag == _LIST or _LIST_SMALL <= tag < _LIST_SMALL + 16:
        n = _read_count(reader, tag, _LIST, _LIST_SMALL)
        return [_read(reader, depth + 1) for _ in range(n)]
    if tag == _DICT or _DICT_SMALL <= tag < _DICT_SMALL + 16:
        n = _read_count(reader, tag, _DICT, _DICT_SMALL)
        result: dict[str, Any] = {}
        for _ in range(n):
            key = _read_str(reader, reader.byte())
            if key in result:
                raise PayloadError(f"key {key!r} appears twice")
            result[key] = _read(reader, depth + 1)
        return result
    raise PayloadError(f"unknown tag 0x{tag:02x}")


def unpack(data: bytes) -> Any:
    """Decode one value that fills ``data`` exactly, written the way :func:`pack` writes it;
    raises :class:`PayloadError` otherwise (see the module docstring)."""
    reader = _Reader(data)
    value = _read(reader, 0)
    if reader.pos != len(data):
        raise PayloadError(f"{len(data) - reader.pos} stray bytes after the value")
    return value


# Kept next to the encoding because this exact format is one it stores in a few bytes.
def utc_timestamp() -> str:
    """The current UTC time as ISO-8601 with milliseconds and a ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
