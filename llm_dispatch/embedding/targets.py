"""Where in a stream the header may go, decided chunk by chunk without holding text back.

A *target* is a kind of character; the header goes right after the first target character
of the stream — more precisely after the character's whole cluster, so that the invisible
run never separates a character from what modifies it. The cluster of a character extends
over the characters that follow and belong to it:

- combining marks (categories Mn, Mc, Me), variation selectors, ZWJ/ZWNJ, emoji skin-tone
  modifiers and tag characters;
- the character after a ZWJ (emoji ZWJ sequences such as 👩‍💻);
- a following regional indicator (flags such as 🇫🇷), and LF after CR.

This is a deliberate approximation of Unicode grapheme clusters (UAX #29) that covers what
chat text contains; Hangul jamo sequences and prepended marks are not treated specially.

When a cluster reaches the end of a chunk, the insertion point is the start of the next
chunk (or the end of the stream): the decision waits for the next chunk, the text never does.

Target kinds:

``whitespace``      after a character for which ``str.isspace()`` is true;
``punctuation``     after a character of Unicode category P* (``.,;:!?'"()[]{}…«»`` …);
``first_letter``    after the first letter of a word: a letter (``str.isalpha()``) whose
                    previous character (ignoring cluster extenders) is not a letter;
``last_letter``     after the last letter of a word: a letter whose next character (ignoring
                    extenders) is not a letter, or that ends the stream;
``all_characters``  after the first character;
``end``             at the end of the stream, with the trailer.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Any

__all__ = ["MetadataTarget", "TargetScanner"]


class MetadataTarget(StrEnum):
    """Where the header goes. Strings are accepted wherever a target is: ``"whitespace"``,
    ``"WHITESPACE"``, ``"first-letter"`` and ``MetadataTarget.FIRST_LETTER`` all work."""

    WHITESPACE = "whitespace"
    PUNCTUATION = "punctuation"
    FIRST_LETTER = "first_letter"
    LAST_LETTER = "last_letter"
    ALL_CHARACTERS = "all_characters"
    END = "end"

    @classmethod
    def _missing_(cls, value: object) -> MetadataTarget | None:
        if isinstance(value, str):
            # Forgiving about case and separators: "First-Letter", "FIRST_LETTER",
            # "first letter" and "MetadataTarget.FIRST_LETTER" all name one target.
            key = value.strip().lower().removeprefix("metadatatarget.")
            key = key.replace("-", "").replace("_", "").replace(" ", "")
            for member in cls:
                if member.value.replace("_", "") == key:
                    return member
        return None

    @classmethod
    def coerce(cls, value: Any) -> MetadataTarget:
        """``value`` as a target, with an error that lists the valid names."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown metadata target {value!r}; use one of: {names}") from None


_WHITESPACE = re.compile(r"\s")
# Non-word, non-space characters: a superset of punctuation, narrowed by category below.
_NON_WORD = re.compile(r"[^\w\s]")
# Runs of word characters other than digits and underscore: letters, plus a few numeric
# characters (such as ²) that str.isalpha() then sorts out.
_LETTERISH = re.compile(r"[^\W\d_]+")

_ZWJ = "\u200d"
_NONE, _AFTER, _AFTER_IF_NOT_LETTER = 0, 1, 2


def _is_extender(char: str) -> bool:
    """Whether ``char`` always belongs to the cluster of the character before it."""
    cp = ord(char)
    if cp < 0x300:
        return False
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
        return True
    if cp in (0x200C, 0x200D) or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
        return True
    return unicodedata.category(char)[0] == "M"


def _is_regional(char: str) -> bool:
    return "\U0001f1e6" <= char <= "\U0001f1ff"


def _cluster_end(text: str, i: int, prev: str) -> int:
    """The first index at or after ``i`` that starts a new cluster (``len(text)`` if none),
    given that ``prev`` is the character just before ``text[i]``."""
    n = len(text)
    while i < n:
        char = text[i]
        if not (
            prev == _ZWJ
            or _is_extender(char)
            or (prev == "\r" and char == "\n")
            or (_is_regional(prev) and _is_regional(char))
        ):
            return i
        prev = char
        i += 1
    return n


class TargetScanner:
    """Finds insertion points in a stream chunk by chunk, remembering only what it must
    (the last character, whether the last base character was a letter, and an insertion
    point that waits for the next chunk to begin)."""

    __slots__ = ("_pending", "_prev", "_prev_alpha", "target")

    def __init__(self, target: MetadataTarget | str) -> None:
        self.target = MetadataTarget.coerce(target)
        self._prev = ""
        self._prev_alpha = False
        self._pending = _NONE

    @property
    def pending_at_end(self) -> bool:
        """Whether the end of the text so far is itself an insertion point (a target's
        cluster, or a word for ``last_letter``, reaches the end)."""
        return self._pending != _NONE

    def scan(self, chunk: str, wanted: int, min_index: int = 0) -> list[int]:
        """Up to ``wanted`` insertion indexes in ``chunk``, ascending, each at a cluster
        boundary; target characters before ``min_index`` are not considered."""
        points: list[int] = []
        n = len(chunk)
        if not n:
            return points
        # The chunk may begin by continuing the cluster the previous chunk ended with.
        start = _cluster_end(chunk, 0, self._prev) if self._prev else 0
        pending, self._pending = self._pending, _NONE
        if pending != _NONE and wanted > 0:
            if start == n:
                self._pending = pending
            elif pending == _AFTER or not chunk[start].isalpha():
                points.append(start)
        pos = max(start, min_index)
        target = self.target
        while len(points) < wanted and pos < n and self._pending == _NONE:
            found = self._find(chunk, pos)
            if found < 0:
                break
            end = _cluster_end(chunk, found + 1, chunk[found])
            if end == n:
                self._pending = (
                    _AFTER_IF_NOT_LETTER if target is MetadataTarget.LAST_LETTER else _AFTER
                )
                break
            if target is MetadataTarget.LAST_LETTER and chunk[end].isalpha():
                pos = end  # a mark inside a word (café spelt with U+0301): not the end yet
                continue
            points.append(end)
            pos = end
        self._remember(chunk)
        return points

    def _remember(self, chunk: str) -> None:
        self._prev = chunk[-1]
        i = len(chunk) - 1
        while i >= 0 and _is_extender(chunk[i]):
            i -= 1
        if i >= 0:
            self._prev_alpha = chunk[i].isalpha()

    def _prev_is_letter(self, chunk: str, i: int) -> bool:
        """Whether the base character before ``chunk[i]`` is a letter."""
        i -= 1
        while i >= 0 and _is_extender(chunk[i]):
            i -= 1
        return chunk[i].isalpha() if i >= 0 else self._prev_alpha

    def _find(self, chunk: str, pos: int) -> int:
        """Index of the next target character at or after ``pos``, or -1."""
        target = self.target
        if target is MetadataTarget.WHITESPACE:
            m = _WHITESPACE.search(chunk, pos)
            return m.start() if m else -1
        if target is MetadataTarget.PUNCTUATION:
            for m in _NON_WORD.finditer(chunk, pos):
                if unicodedata.category(m.group())[0] == "P":
                    return m.start()
            return -1
        if target is MetadataTarget.ALL_CHARACTERS:
            return pos
        if target is MetadataTarget.FIRST_LETTER:
            for m in _LETTERISH.finditer(chunk, pos):
                a, b = m.span()
                if chunk[a:b].isalpha():
                    if not self._prev_is_letter(chunk, a):
                        return a
                    continue
                for i in range(a, b):
                    if chunk[i].isalpha() and not self._prev_is_letter(chunk, i):
                        return i
            return -1
        if target is MetadataTarget.LAST_LETTER:
            for m in _LETTERISH.finditer(chunk, pos):
                a, b = m.span()
                if chunk[a:b].isalpha():
                    return b - 1
                # Rare: numeric characters inside the run; find a letter not followed by one.
                for i in range(a, b):
                    if chunk[i].isalpha() and (i + 1 == b or not chunk[i + 1].isalpha()):
                        return i
            return -1
        return -1  # END: nothing in the stream is a target
