"""The compact form of ISO-8601 timestamp strings (tag ``0x0A`` of :mod:`.compact`).

A timestamp string is stored by meaning and rebuilt exactly::

    flags (1) | seconds since 1970-01-01 of the local time (zigzag varint)
              | microseconds (varint, when flag 8) | UTC offset in minutes (zigzag varint,
                when flag 1 without flag 2)

    flags: 1 an offset is written, 2 it is written as "Z", 4 a space separates date and
           time, 8 microseconds follow; bits 4–6: the ``isoformat`` timespec (see
           ``TIMESPECS``); bit 7 is zero.

:func:`pack_iso` stores a string only when rendering gives back that very string, and
chooses the first timespec that does. :func:`read_iso` accepts exactly what
:func:`pack_iso` writes: flags for fields the string does not show (microseconds that
are zero, a timespec that drops non-zero digits, "Z" without an offset), a timespec that
an earlier one renders the same way, and a string too short for the encoder to have
stored this way are refused — checked from the fields, without re-encoding.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from .codec import decode_varint, encode_varint

__all__ = ["MIN_LENGTH", "TIMESPECS", "pack_iso", "read_iso", "render_iso"]

#: ``isoformat()`` timespecs, in the order tried; the index is stored in the flags.
TIMESPECS = ("auto", "hours", "minutes", "seconds", "milliseconds", "microseconds")
_AUTO, _HOURS, _MINUTES, _SECONDS, _MILLIS, _MICROS = range(6)
#: Strings shorter than this are never stored as timestamps (they cost less as they are).
MIN_LENGTH = 16
_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_TZ, _Z, _SPACE, _HAS_MICROS = 1, 2, 4, 8
_MAX_OFFSET = 24 * 60


def _zigzag(n: int) -> int:
    return n * 2 if n >= 0 else -n * 2 - 1


def _unzigzag(n: int) -> int:
    return n >> 1 if not n & 1 else -((n + 1) >> 1)


_TWO_DIGITS = tuple(f"{n:02d}" for n in range(100))


@functools.lru_cache(maxsize=1024)
def _day(days: int) -> str:
    """The date ``days`` after 1970-01-01, as ``YYYY-MM-DD`` (timestamps share days)."""
    return date.fromordinal(_EPOCH_ORDINAL + days).isoformat()


def render_iso(flags: int, seconds: int, micros: int, offset_minutes: int) -> str:
    """The string the fields stand for: what ``datetime.isoformat`` writes for them, built
    directly from the fields (``ValueError`` when the date is out of range)."""
    days, second_of_day = divmod(seconds, 86400)
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    spec = flags >> 4
    two = _TWO_DIGITS
    if spec == _HOURS:
        clock = two[hour]
    elif spec == _MINUTES:
        clock = f"{two[hour]}:{two[minute]}"
    else:
        clock = f"{two[hour]}:{two[minute]}:{two[second]}"
        if spec == _MILLIS:
            clock += f".{micros // 1000:03d}"
        elif spec == _MICROS or (spec == _AUTO and micros):
            clock += f".{micros:06d}"
    text = f"{_day(days)}{' ' if flags & _SPACE else 'T'}{clock}"
    if flags & _Z:
        return text + "Z"
    if flags & _TZ:
        sign = "-" if offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(offset_minutes), 60)
        return f"{text}{sign}{hours:02d}:{minutes:02d}"
    return text


def pack_iso(text: str) -> bytes | None:
    """The compact form of a timestamp string (without the tag), or None if it would not
    come back as the very same string."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    flags = 0
    offset_minutes = 0
    offset = dt.utcoffset()
    if offset is not None:
        if offset % timedelta(minutes=1):
            return None
        flags |= _TZ
        offset_minutes = offset // timedelta(minutes=1)
        if text.endswith("Z"):
            if offset_minutes:
                return None
            flags |= _Z
    if text[10] == " ":
        flags |= _SPACE
    delta = dt.replace(tzinfo=None) - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    micros = delta.microseconds
    if micros:
        flags |= _HAS_MICROS
    for index in range(len(TIMESPECS)):
        candidate = flags | (index << 4)
        try:
            rendered = render_iso(candidate, seconds, micros, offset_minutes)
        except ValueError:
            return None
        if rendered == text:
            out = bytearray((candidate,))
            out += encode_varint(_zigzag(seconds))
            if micros:
                out += encode_varint(micros)
            if flags & _TZ and not flags & _Z:
                out += encode_varint(_zigzag(offset_minutes))
            return bytes(out)
    return None


def _canonical(flags: int, seconds: int, micros: int) -> bool:
    """Whether :func:`pack_iso` of the rendered string gives back these very fields."""
    spec = flags >> 4
    if flags & _Z and not flags & _TZ:
        return False  # "Z" stands for a zero offset: there must be one
    if bool(flags & _HAS_MICROS) != bool(micros):
        return False  # the microseconds are written exactly when they are not zero
    # The timespec must not drop digits that are not zero (they would not come back) ...
    if spec == _HOURS and (seconds % 3600 or micros):
        return False
    if spec == _MINUTES and (seconds % 60 or micros):
        return False
    if spec == _MILLIS and micros % 1000:
        return False
    # ... must not render like "auto", which is tried first: without microseconds "auto"
    # is "seconds", with them it is "microseconds" ...
    if spec == _SECONDS or (spec == _MICROS and micros):
        return False
    # ... and the string must be long enough for the encoder to store it this way: only
    # an hours-only time without a written offset is shorter than MIN_LENGTH.
    return not (spec == _HOURS and (not flags & _TZ or flags & _Z))


def read_iso(data: bytes, pos: int) -> tuple[str, int]:
    """The timestamp string whose compact form starts at ``data[pos]`` (after the tag), and
    the position after it. ``ValueError`` unless it is exactly what :func:`pack_iso` writes.
    """
    if pos >= len(data):
        raise ValueError("payload ends in the middle of a timestamp")
    flags = data[pos]
    if flags & 0x80 or flags >> 4 >= len(TIMESPECS):
        raise ValueError("bad timestamp flags")
    zigzag, pos = decode_varint(data, pos + 1)
    micros = 0
    offset = 0
    if flags & _HAS_MICROS:
        micros, pos = decode_varint(data, pos)
    if flags & _TZ and not flags & _Z:
        zigzag_offset, pos = decode_varint(data, pos)
        offset = _unzigzag(zigzag_offset)
    if micros >= 1_000_000 or abs(offset) >= _MAX_OFFSET:
        raise ValueError("bad timestamp fields")
    seconds = _unzigzag(zigzag)
    if not _canonical(flags, seconds, micros):
        raise ValueError("timestamp not in canonical form")
    try:
        return render_iso(flags, seconds, micros, offset), pos
    except ValueError:
        raise ValueError("timestamp out of range") from None
