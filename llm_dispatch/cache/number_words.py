"""Numbers written as words become digits: "three" = "3", "twenty-one" = "21".

:func:`numbers_to_digits` replaces each run of number words in a token sequence with the
digits of its value: units, teens and tens (``forty-two`` or ``forty two``), then
``hundred``, ``thousand``, ``million``, ``billion`` as multipliers (``two hundred and five``
= ``205``, ``a thousand`` = ``1000``), and the ordinals ``first`` ... ``tenth`` except
``second`` (also a unit of time) as ``1st`` ... ``10th``. Digits already in the prompt are
left exactly as written (``1,000`` is not ``1000``: the guard compares numbers literally).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["numbers_to_digits"]

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINALS = {
    "first": "1st", "third": "3rd", "fourth": "4th", "fifth": "5th", "sixth": "6th",
    "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
}  # fmt: skip


def _small(word: str) -> int | None:
    """Value of a word below one hundred (``seven``, ``forty``, ``forty-two``), or None."""
    if word in _UNITS:
        return _UNITS[word]
    if word in _TENS:
        return _TENS[word]
    tens, dash, unit = word.partition("-")
    if dash and tens in _TENS and unit in _UNITS and 0 < _UNITS[unit] < 10:
        return _TENS[tens] + _UNITS[unit]
    return None


def _read_number(tokens: Sequence[str], start: int) -> tuple[int, int] | None:
    """``(value, tokens used)`` of the number spelled from ``tokens[start]``, or None."""
    total = 0
    current: int | None = None
    i = start
    while i < len(tokens):
        word = tokens[i]
        small = _small(word)
        if small is not None:
            if (
                current is not None
                and current % 100 != 0
                and not (current % 10 == 0 and current < 100 and small < 10)
            ):
                break  # "five six": two numbers
            current = small if current is None else current + small
        elif word in _SCALES and (current is not None or (i > start and tokens[i - 1] == "a")):
            scale = _SCALES[word]
            value = 1 if current is None else current
            if scale == 100:
                current = value * 100
            else:
                total += value * scale
                current = None
        elif word == "and" and current is not None and i + 1 < len(tokens):
            if _small(tokens[i + 1]) is None or current % 100 != 0:
                break
        elif word == "a" and i == start and i + 1 < len(tokens) and tokens[i + 1] in _SCALES:
            pass  # "a hundred", "a thousand"
        else:
            break
        i += 1
    if i == start or (current is None and total == 0 and tokens[start] != "zero"):
        return None
    if tokens[i - 1] == "a":
        return None
    return total + (current or 0), i - start


def _may_start_number(word: str) -> bool:
    return word in _UNITS or word in _TENS or word == "a" or word.partition("-")[0] in _TENS


def numbers_to_digits(tokens: Sequence[str]) -> list[str]:
    """``tokens`` with every run of number words replaced by its digits."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        word = tokens[i]
        if not _may_start_number(word) and word not in _ORDINALS:
            out.append(word)
            i += 1
            continue
        if word in _ORDINALS:
            out.append(_ORDINALS[word])
            i += 1
            continue
        read = _read_number(tokens, i)
        if read is None:
            out.append(word)
            i += 1
            continue
        value, used = read
        out.append(str(value))
        i += used
    return out
