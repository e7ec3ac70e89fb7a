"""Word forms that ask the same thing: plural and singular, British and American spelling.

:func:`fold` maps a lower-case word to one form shared by its variants. It is a small,
conservative rule set of its own rather than a stemming library: Porter and Snowball
stemmers exist to make *related* words equal for search ("universe" and "university" both
become ``univers``, "organ" and "organization" ``organ``), and for a cache every such
merge is a wrong answer waiting. Here only these rules apply, to plain words of four letters
or more:

- plural ``-ies`` → ``-y`` (``libraries`` → ``library``), ``-oes`` → ``-o`` in words of
  six letters or more (``tomatoes`` → ``tomato``, but ``shoes`` → ``shoe``); other plural
  ``-s`` is dropped, except after ``s``, ``u`` or ``i`` (``class``, ``status``,
  ``analysis`` are singular);
- a final ``e`` after ``ch``, ``sh``, ``x`` or ``ss`` is dropped from every word, so
  that ``caches`` / ``cache`` and ``matches`` / ``match`` each meet in one form;
- ``-ise`` / ``-isation`` / ``-ising`` ... become ``-ize`` ... (``summarise`` =
  ``summarize``), and a short table of other spellings (``colour`` = ``color``).

A rule that misses a pair (``movies`` / ``movie``) only costs a hit; the exceptions below
keep the rules from merging two different words (``news`` is not ``new``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .lexicon import SPELLING

__all__ = ["fold"]

# Words ending in "s" that are not the plural of the word without it, or whose "singular"
# is another word ("means" / "mean", "goods" / "good", "sometimes" / "sometime").
_NOT_PLURAL = frozenset(
    {"news", "means", "goods", "sometimes", "besides", "species", "series", "yours", "ours",
     "theirs", "hers", "always", "perhaps", "whereas", "towards", "afterwards", "lens",
     "bias", "atlas", "canvas", "alias", "chaos", "ethos", "pathos", "kudos", "thanks",
     "less", "unless", "does", "was", "has", "his", "this", "thus", "plus", "minus",
     "physics", "mathematics", "economics", "politics", "ethics", "statistics", "athletics",
     "linguistics", "electronics", "graphics", "headquarters", "diabetes", "measles"}
)  # fmt: skip

_IZE_RE = re.compile(r"^([a-z]{4,})is(e|ed|es|ing|ation|ations|er|ers)$")
_E_AFTER = ("ch", "sh", "x", "ss")


def _singular(word: str) -> str:
    if word in _NOT_PLURAL:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("oes") and len(word) > 5:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def fold(word: str) -> str:
    """The shared form of a plain lower-case word (see the module docstring)."""
    if len(word) < 4 or not word.isalpha() or not word.islower():
        return SPELLING.get(word, word)
    word = SPELLING.get(word, word)
    ize = _IZE_RE.match(word)
    if ize:
        word = f"{ize[1]}iz{ize[2]}"
    word = _singular(word)
    if word.endswith("e") and word[:-1].endswith(_E_AFTER) and len(word) >= 4:
        word = word[:-1]
    return word
