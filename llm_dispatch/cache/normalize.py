"""Prompt tokenisation and the normal form used for exact cache keys.

Two prompts that normalise to the same token sequence are the *same question* for the
cache: they differ only in letter case, whitespace or sentence punctuation. Everything the
guard (:mod:`llm_dispatch.cache.guard`) and the default vectorizer look at is derived from
this token sequence, so the three agree on what a prompt says.

What normalisation does, in order:

1. Unicode NFKC (full-width letters, ligatures, non-breaking spaces become plain ones),
   curly quotes become straight ones, ``\\r\\n`` becomes ``\\n``.
2. Splits the text into tokens of these kinds (see :class:`TokenKind`): verbatim spans
   (fenced code, inline code, quoted strings: kept byte for byte, case and spaces included),
   URLs, e-mail addresses, numbers, words/identifiers, and symbols (operators, brackets,
   currency signs, emoji).
3. Drops *soft punctuation* — ``. , ; : ! ? …`` and unpaired quotes — which changes the tone
   of a prompt but not what it asks.
4. Folds case only where case carries no meaning: lower-case and Capitalised words are
   folded (``Python`` = ``python``); ALL-CAPS words of two letters or more are kept (``US``
   is not ``us``, ``IT`` is not ``it``) unless the whole prompt is written in capitals;
   mixed-case words (``iPhone``, ``camelCase``) and code-like identifiers (``snake_case``,
   ``os.path``) are kept as written; a single capital letter that does not start a sentence
   (``plan A``, ``vitamin C``) is kept as written.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "TOKEN_SEPARATOR",
    "TokenKind",
    "classify",
    "normalize_prompt",
    "split_normalized",
    "tokenize",
]

#: Joins tokens into the stored normal form. A control character, so that a verbatim token
#: holding spaces can never be confused with several tokens.
TOKEN_SEPARATOR = "\x1f"


class TokenKind(StrEnum):
    """What a token is; the guard reports differences by kind."""

    VERBATIM = "quoted"  # "…", '…', `…`, ```…```: compared byte for byte
    URL = "url"
    EMAIL = "email"
    NUMBER = "number"
    IDENTIFIER = "identifier"  # code-like: snake_case, dotted.name, camelCase, x86-64, gpt-4
    WORD = "word"
    SYMBOL = "symbol"  # operators, brackets, currency, emoji


_QUOTE_MAP = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u2013": "-",  # en dash: a range or a minus, so it stays a symbol
    }
)

# One alternation, tried left to right at each position. Named groups tell the kind.
_TOKEN_RE = re.compile(
    r"""
    (?P<fence>```.*?```)
  | (?P<code>`[^`]+`)
  | (?P<dq>"[^"\n]{0,2000}")
  | (?P<sq>(?<![\w'])'[^'\n]{1,2000}'(?!\w))
  | (?P<url>(?:https?://|www\.)[^\s<>"']+)
  | (?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)
  | (?P<number>\d+(?:[.,:/]\d+)*%?(?![\w.]\w))
  | (?P<word>\w+(?:['.\-]\w+)*)
  | (?P<op>!=|(?:[+\-*/=<>^%&|~])+)
  | (?P<soft>[.,;:!?\u2026"'\u2014]+)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# Characters a URL found in prose usually ends with but does not contain.
_URL_TRAILING = ".,;:!?)]}'\""

_SENTENCE_END = frozenset(".!?:\n")


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_QUOTE_MAP).replace("\r\n", "\n")


def _is_code_like(word: str) -> bool:
    """Underscores or dots inside a word make it code: its case is significant."""
    return "_" in word or "." in word


def _fold_word(word: str, *, shouting: bool, sentence_start: bool) -> tuple[str, TokenKind]:
    """Apply the case rule of the module docstring to one word-like token."""
    has_digit = any(c.isdigit() for c in word)
    if _is_code_like(word):
        return word, TokenKind.IDENTIFIER
    kind = TokenKind.IDENTIFIER if has_digit else TokenKind.WORD
    letters = [c for c in word if c.isalpha()]
    if not letters:
        return word, kind
    uppers = sum(1 for c in letters if c.isupper())
    if uppers == 0:
        return word, kind
    if len(letters) == 1:
        # "I" is the pronoun wherever it stands. "A" opening a sentence is the article;
        # elsewhere a lone capital names something (plan A, vitamin C, language C).
        if word == "I" or sentence_start or shouting:
            return word.casefold(), kind
        return word, TokenKind.IDENTIFIER
    if uppers == len(letters):
        return (word.casefold(), kind) if shouting else (word, kind)
    if uppers == 1 and letters[0].isupper() and word[0].isalpha():
        return word.casefold(), kind
    # camelCase, iPhone, McDonald: the capitals are part of the name.
    return word, TokenKind.IDENTIFIER


@lru_cache(maxsize=512)
def tokenize(text: str) -> tuple[tuple[str, TokenKind], ...]:
    """Split a prompt into ``(normalised text, kind)`` tokens; soft punctuation is dropped.

    Cached (small): one prompt is tokenised for its key, its guard signature and its vector.
    """
    # First pass: raw tokens, and whether each word opens a sentence.
    raw: list[tuple[str, str, bool]] = []
    sentence_start = True
    for match in _TOKEN_RE.finditer(_prepare(text)):
        group = match.lastgroup or "other"
        value = match[0]
        if group == "space":
            sentence_start = sentence_start or "\n" in value
            continue
        if group == "soft":
            sentence_start = sentence_start or any(c in _SENTENCE_END for c in value)
            continue
        raw.append((group, value, sentence_start))
        sentence_start = False

    # Caps lock is judged on the prose words only: quoted and code spans keep their case.
    words = [value for group, value, _ in raw if group == "word"]
    shouting = any(c.isupper() for w in words for c in w) and not any(
        c.islower() for w in words for c in w
    )

    tokens: list[tuple[str, TokenKind]] = []
    for group, value, starts in raw:
        if group in ("fence", "code", "dq", "sq"):
            tokens.append((value, TokenKind.VERBATIM))
        elif group == "url":
            tokens.append((value.rstrip(_URL_TRAILING), TokenKind.URL))
        elif group == "email":
            tokens.append((value, TokenKind.EMAIL))
        elif group == "number":
            tokens.append((value, TokenKind.NUMBER))
        elif group == "word":
            tokens.append(_fold_word(value, shouting=shouting, sentence_start=starts))
        else:  # op, other
            tokens.append((value, TokenKind.SYMBOL))
    return tuple(tokens)


def normalize_prompt(text: str) -> str:
    """The normal form of a prompt: its token texts joined by :data:`TOKEN_SEPARATOR`."""
    return TOKEN_SEPARATOR.join(t for t, _ in tokenize(text))


def split_normalized(normalized: str) -> tuple[str, ...]:
    """Inverse of :func:`normalize_prompt`: the token texts of a stored normal form."""
    return tuple(normalized.split(TOKEN_SEPARATOR)) if normalized else ()


_NUMBER_RE = re.compile(r"\d+(?:[.,:/]\d+)*%?")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_WORD_RE = re.compile(r"\w+(?:['.\-]\w+)*")


def classify(token: str) -> TokenKind:
    """The kind of one normalised token text (used to explain guard verdicts)."""
    if token[:1] in ('"', "'", "`"):
        return TokenKind.VERBATIM
    if token.startswith(("http://", "https://", "www.")):
        return TokenKind.URL
    if _EMAIL_RE.fullmatch(token):
        return TokenKind.EMAIL
    if _NUMBER_RE.fullmatch(token):
        return TokenKind.NUMBER
    if _WORD_RE.fullmatch(token):
        if _is_code_like(token) or any(c.isdigit() or c.isupper() for c in token):
            return TokenKind.IDENTIFIER
        return TokenKind.WORD
    return TokenKind.SYMBOL
