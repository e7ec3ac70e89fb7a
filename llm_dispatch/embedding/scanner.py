"""Finding our frames in a text, in time linear in its length whatever the text holds.

A *candidate* is a place where the regex engine sees the magic, a type byte of a kind this
version defines and a body length in its shortest form (all checked in C). Each candidate
then costs a few Python operations: it is a frame when its body fits in the selector run it
starts in — the frame is then skipped over whole, so nothing inside it is looked at again —
and otherwise the search resumes one character later.

Ordinary text has no candidates, and a signed text has one per frame. A crafted text can
have one every three characters, so the number of candidates examined is capped at
:func:`candidate_budget` (:data:`BUDGET_BASE` plus one per :data:`BUDGET_CHARS`
characters): past the cap the scan stops and says so (:attr:`Scan.complete` is false),
and the caller treats the text as unreadable rather than spending more time on it. The cap
is far above what any text we wrote can reach — the smallest frame is 8 characters, and a
text that quotes signed answers has a handful of frames per answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from .codec import (
    KINDS,
    MAGIC_TEXT,
    SELECTOR_RUN,
    bytes_to_selectors,
    selector_byte,
    selectors_to_bytes,
    type_byte,
)

__all__ = [
    "BUDGET_BASE",
    "BUDGET_CHARS",
    "RawFrame",
    "Scan",
    "candidate_budget",
    "scan",
    "scan_frames",
]

#: Candidates always examined, however short the text.
BUDGET_BASE = 1024
#: One more candidate examined per this many characters of text.
BUDGET_CHARS = 256


def candidate_budget(length: int) -> int:
    """How many frame candidates a scan of a text of ``length`` characters examines."""
    return BUDGET_BASE + length // BUDGET_CHARS


def _char_class(values: range) -> str:
    """A regex class body matching the selectors of the byte values ``values`` (a range),
    written as at most two character ranges so that the engine tests it in constant time."""
    lo, hi = values.start, values.stop - 1
    parts = []
    if lo < 16:
        parts.append((lo, min(hi, 15)))
    if hi >= 16:
        parts.append((max(lo, 16), hi))
    return "".join(
        f"{re.escape(bytes_to_selectors(bytes([a])))}-{re.escape(bytes_to_selectors(bytes([b])))}"
        for a, b in parts
    )


# The body length in its shortest form (see codec.decode_varint): one byte below 0x80; or
# continuation bytes followed by a non-zero last byte, the third one at most 3 so that the
# value stays within MAX_BODY (0xFFFF).
_LOW = f"[{_char_class(range(0x00, 0x80))}]"
_LOW_NONZERO = f"[{_char_class(range(0x01, 0x80))}]"
_CONTINUED = f"[{_char_class(range(0x80, 0x100))}]"
_THIRD = f"[{_char_class(range(0x01, 0x04))}]"
_TYPES = "".join(_char_class(range(type_byte(k), type_byte(k) + 1)) for k in KINDS)
_FRAME_START = re.compile(
    f"{re.escape(MAGIC_TEXT)}([{_TYPES}])"
    f"({_LOW}|{_CONTINUED}{_LOW_NONZERO}|{_CONTINUED}{_CONTINUED}{_THIRD})"
)


class RawFrame(NamedTuple):
    """One frame found in a text: ``text[start:end]``, whose body is ``text[body_start:end]``.

    The bytes are read from the text only when asked for, so that frames nobody looks at
    cost nothing beyond being found.
    """

    start: int
    end: int
    kind: int
    body_start: int

    def body(self, text: str, limit: int | None = None) -> bytes:
        """The body's bytes (only the first ``limit`` of them, if given)."""
        stop = self.end if limit is None else min(self.end, self.body_start + limit)
        return selectors_to_bytes(text[self.body_start : stop])

    def raw(self, text: str) -> bytes:
        """The whole frame's bytes, magic and length included."""
        return selectors_to_bytes(text[self.start : self.end])

    @property
    def body_length(self) -> int:
        return self.end - self.body_start


@dataclass(slots=True)
class Scan:
    """What :func:`scan` found: the frames in order, and whether it read the whole text."""

    frames: list[RawFrame] = field(default_factory=list)
    #: False when the candidate budget ran out: frames past that point were not looked for.
    complete: bool = True
    #: How many candidates were examined (frames found included).
    examined: int = 0


def scan(text: str) -> Scan:
    """Every frame in ``text``, left to right; see the module docstring for the cost."""
    result = Scan()
    frames = result.frames
    budget = candidate_budget(len(text))
    search = _FRAME_START.search
    run_match = SELECTOR_RUN.match
    byte = selector_byte
    run_end = -1
    examined = 0
    match = search(text)
    while match is not None:
        if examined == budget:
            result.complete = False
            break
        examined += 1
        start = match.start()
        body_start = match.end()
        if start >= run_end:
            # Measure the selector run this candidate sits in once; later candidates in the
            # same run reuse it. (The match itself is selectors, so the run is never empty.)
            run = run_match(text, start)
            run_end = run.end() if run is not None else body_start
        kind_char, length_chars = match.groups()
        length = byte(length_chars[0])
        if len(length_chars) > 1:
            length = (length & 0x7F) | (byte(length_chars[1]) & 0x7F) << 7
            if len(length_chars) > 2:
                length |= byte(length_chars[2]) << 14
        end = body_start + length
        if end <= run_end:
            frames.append(RawFrame(start, end, byte(kind_char) & 0x0F, body_start))
            match = search(text, end)
        else:
            match = search(text, start + 1)
    result.examined = examined
    return result


def scan_frames(text: str) -> list[RawFrame]:
    """The frames :func:`scan` finds in ``text``."""
    return scan(text).frames
