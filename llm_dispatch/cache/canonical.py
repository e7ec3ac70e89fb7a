"""The canonical form of a prompt: its content words, in order, in one shared form.

The guard (:mod:`.guard`) and the default vectorizer (:mod:`.similarity`) both read a
prompt through :func:`canonicalize`, which turns the normalised tokens
(:mod:`.normalize`: case, whitespace and punctuation already folded) into two sequences:

- ``content``: the words that say what is asked, in prompt order;
- ``filler``: the words that only say *how* it is asked, dropped from ``content``.

The steps, in order:

1. contractions spelled out (:mod:`.contractions`: ``isn't`` → ``is not``);
2. politeness words dropped (``please``, ``kindly``, ``pls``, ``plz``, ``thanks``);
3. question frames and preambles rewritten (:mod:`.phrases`: "could you tell me how I can"
   → ``how``, "could you explain" → ``explain``, "I was wondering if" → nothing);
4. number words become digits (:mod:`.number_words`: ``three`` → ``3``);
5. filler dropped: articles before a word (``f(a)`` keeps its variable), the words of
   :data:`.lexicon.FILLER_WORDS` (``is``, ``do``, ``this``, ``in``, ``about`` ...), and an
   infinitive ``to`` ("want to learn", "a function to sort": after a word that calls for a
   verb, or after a tool noun and before an action verb). Every other ``to`` is a direction
   word and stays;
6. each remaining plain word gets its shared form: a possessive ``'s`` is dropped
   (``France's`` → ``france``), plural and spelling variants meet (:mod:`.inflection`);
7. where a verb stands (the first content word, or after ``how``, ``and``, ``then``, or an
   infinitive ``to``) a verb synonym takes its group's name (:data:`.lexicon.SYNONYMS`:
   ``describe`` → ``explain``, ``generate`` → ``write``, ``list`` → ``show``).

Quoted strings, code spans, URLs, e-mail addresses, identifiers, ALL-CAPS words and symbols
are never rewritten: they pass through as the tokeniser wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .contractions import expand_contractions
from .inflection import fold
from .lexicon import ARTICLES, FILLER_WORDS, POLITENESS, REQUEST_VERBS, SYNONYMS
from .normalize import TokenKind, classify, split_normalized
from .number_words import numbers_to_digits
from .phrases import strip_frames

__all__ = ["Canonical", "canonical_of_normalized", "canonicalize"]


@dataclass(frozen=True, slots=True)
class Canonical:
    """A prompt's content words (in order, canonical forms) and its filler words."""

    content: tuple[str, ...]
    filler: tuple[str, ...]


# "to" after these words introduces a verb: "want to learn", "a way to", "able to".
_INFINITIVE_CUES = frozenset(
    {"want", "wants", "wanted", "need", "needs", "needed", "able", "try", "tries", "trying",
     "tried", "going", "have", "has", "had", "how", "way", "ways", "used", "supposed",
     "ought", "wish", "hope", "hoping", "plan", "planning", "learn", "learning", "like",
     "love", "prefer", "easiest", "best", "possible", "necessary", "safe", "better"}
)  # fmt: skip
# "a function to sort" = "a function that sorts": a tool noun, "to", an action verb. Words
# that are both (program, code, query ...) are tool nouns only, so that "convert code to
# program" keeps its direction word.
_TOOL_NOUNS = frozenset(
    {"script", "function", "program", "code", "command", "query", "regex", "class", "method",
     "algorithm", "tool", "formula", "macro", "snippet", "app", "bot", "prompt", "loop",
     "one-liner", "shell", "pipeline", "test", "example", "step"}
)  # fmt: skip
_MORE_ACTION_VERBS = frozenset(
    {"use", "sort", "reverse", "check", "count", "print", "read", "split", "join", "merge",
     "parse", "validate", "filter", "flatten", "remove", "find", "get", "download", "upload",
     "send", "connect", "detect", "measure", "extract", "replace", "return", "compute",
     "generate", "add", "combine", "store", "load", "save", "encrypt", "decrypt", "encode",
     "decode", "compress", "calculate", "handle"}
)  # fmt: skip
_ACTION_VERBS = (REQUEST_VERBS | _MORE_ACTION_VERBS) - _TOOL_NOUNS
_VERB_SLOT_AFTER = frozenset({"how", "and", "then"})


def _is_infinitive(previous: str | None, following: str | None) -> bool:
    if following is None or previous is None:
        return False
    if previous in _INFINITIVE_CUES:
        return True
    return (
        fold(previous) in _TOOL_NOUNS
        and following not in _TOOL_NOUNS
        and fold(following) in _ACTION_VERBS
    )


def _form(token: str) -> str:
    """The shared form of one content token (plain words only; everything else as is)."""
    if token.endswith("'s") and token[:-2].isalpha() and token.islower():
        token = token[:-2]
    if token.isalpha() and token.islower():
        return fold(token)
    return token


def canonicalize(tokens: Sequence[str]) -> Canonical:
    """The canonical form of a normalised token sequence (see the module docstring)."""
    filler: list[str] = []
    words: list[str] = []
    for word in expand_contractions(tokens):
        (filler if word in POLITENESS else words).append(word)
    words, dropped = strip_frames(words)
    filler.extend(dropped)
    words = numbers_to_digits(words)

    content: list[str] = []
    verb_slot = True
    previous: str | None = None
    last = len(words) - 1
    for i, word in enumerate(words):
        following = words[i + 1] if i < last else None
        article = word in ARTICLES and following is not None
        if (article and classify(following or "") != TokenKind.SYMBOL) or word in FILLER_WORDS:
            filler.append(word)
            verb_slot = False
        elif word == "to" and _is_infinitive(previous, following):
            filler.append(word)
            verb_slot = True
        else:
            form = _form(word)
            if verb_slot:
                form = SYNONYMS.get(form, form)
            content.append(form)
            verb_slot = form in _VERB_SLOT_AFTER
        previous = word
    return Canonical(tuple(content), tuple(filler))


@lru_cache(maxsize=4096)
def canonical_of_normalized(normalized: str) -> Canonical:
    """:func:`canonicalize` of a stored normal form (cached: the index re-reads them)."""
    return canonicalize(split_normalized(normalized))
