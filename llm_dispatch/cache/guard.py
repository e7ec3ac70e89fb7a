"""The meaning-flip guard: when may a *similar* (not identical) prompt reuse an answer?

Similarity scores cannot be trusted with meaning: "Convert 100 Fahrenheit to Celsius" and
"Convert 101 Fahrenheit to Celsius" score 0.98 with most vectorizers, and so do "haiku about
Python" / "haiku about Rust" or "good for health" / "bad for health". So a similar hit needs
more than a score: the two prompts must have the same **decisive tokens, in the same order**.

Decisive tokens are every token of the normalised prompt (:mod:`.normalize`) except a short,
closed list of *filler* words that never decide an answer:

- the articles ``a``, ``an``, ``the`` — only when a word follows them, so the variable in
  ``f(a)`` or ``a = 5`` stays decisive;
- the politeness markers ``please``, ``pls``, ``plz``, ``kindly``.

Before comparing, contractions are expanded (``what's`` → ``what is``, ``isn't`` →
``is not``, ``can't``/``cannot`` → ``can not``, ``won't`` → ``will not``, ``'re``/``'ve``/
``'ll``/``'m`` → ``are``/``have``/``will``/``am``), so the negation they carry is a token of
its own and a contracted prompt matches its spelled-out twin.

Everything else must match exactly, which covers by construction:

- numbers (``100`` ≠ ``101``, ``3.5`` ≠ ``35``, ``1,000`` ≠ ``1000``: literal, never parsed),
- negations (``not``, ``no``, ``never``, ``without``, ``n't`` ...),
- polarity and direction words (good/bad, increase/decrease, before/after, to/from ...),
- quoted strings and code spans (byte for byte, case and spaces included),
- identifiers (``foo`` ≠ ``bar``, ``os.path`` ≠ ``os.Path``, ``camelCase``, ``gpt-4``),
- e-mail addresses and URLs,
- every other content word (``Python`` ≠ ``Rust``, ``France`` ≠ ``Spain``),
- operators and brackets (``2+3*4`` ≠ ``(2+3)*4``),
- word order (``USD to EUR`` ≠ ``EUR to USD``, ``dog bites man`` ≠ ``man bites dog``): no
  cheap rule tells a harmless reordering from a swap of roles, so order must match.

What a similar hit may therefore differ in: letter case, whitespace and sentence punctuation
(already equal after normalisation), articles, politeness words and contractions. The
similarity threshold then decides how much of that filler may differ.

Because the decisive sequence must be equal, it is also the *blocking key* of the similarity
index: every possible similar hit lives in the bucket of its :func:`signature`, so a lookup
scores only that bucket and never misses a candidate the guard would accept.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .normalize import TOKEN_SEPARATOR, TokenKind, classify, split_normalized, tokenize

__all__ = [
    "ARTICLES",
    "NEGATIONS",
    "POLARITY_WORDS",
    "POLITENESS",
    "GuardVerdict",
    "check",
    "check_tokens",
    "decisive_tokens",
    "expand_contractions",
    "signature",
]

ARTICLES = frozenset({"a", "an", "the"})
POLITENESS = frozenset({"please", "pls", "plz", "kindly"})

# Not used to decide (every non-filler word is decisive); used to name what differed.
NEGATIONS = frozenset(
    {"not", "no", "never", "none", "nor", "neither", "nothing", "nobody", "nowhere",
     "without", "cannot", "against", "except", "excluding", "lack", "lacks", "avoid"}
)  # fmt: skip
POLARITY_WORDS = frozenset(
    {"good", "bad", "better", "worse", "best", "worst", "true", "false", "yes", "more",
     "less", "most", "least", "increase", "decrease", "before", "after", "add", "remove",
     "above", "below", "over", "under", "higher", "lower", "max", "min", "maximum",
     "minimum", "positive", "negative", "pros", "cons", "advantages", "disadvantages",
     "benefits", "risks", "safe", "dangerous", "healthy", "unhealthy", "to", "from", "into",
     "with", "up", "down", "in", "out", "on", "off", "open", "close", "start", "stop",
     "encrypt", "decrypt", "encode", "decode", "compress", "decompress", "ascending",
     "descending", "first", "last", "left", "right", "always", "all", "some", "any",
     "only", "same", "different", "legal", "illegal", "allowed", "forbidden"}
)  # fmt: skip

# Contractions whose expansion is unambiguous. "'s" is expanded only after the pronouns and
# question words below ("John's" is a possessive); "'d" (had / would) is left alone.
_CONTRACTIONS: dict[str, tuple[str, ...]] = {
    "won't": ("will", "not"),
    "can't": ("can", "not"),
    "cannot": ("can", "not"),
    "shan't": ("shall", "not"),
    "let's": ("let", "us"),
}
_S_IS = frozenset(
    {"it", "that", "what", "who", "where", "when", "how", "there", "here", "he", "she",
     "this", "why", "which"}
)  # fmt: skip
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("n't", "not"),
    ("'re", "are"),
    ("'ve", "have"),
    ("'ll", "will"),
    ("'m", "am"),
)


def _expand(token: str) -> tuple[str, ...]:
    """Expand one contraction into its words; any other token is returned alone."""
    if token in _CONTRACTIONS:
        return _CONTRACTIONS[token]
    if "'" not in token:
        return (token,)
    for suffix, word in _SUFFIXES:
        if token.endswith(suffix) and len(token) > len(suffix):
            return (token[: -len(suffix)], word)
    if token.endswith("'s") and token[:-2] in _S_IS:
        return (token[:-2], "is")
    return (token,)


def expand_contractions(tokens: Sequence[str]) -> list[str]:
    """Tokens with every unambiguous contraction spelled out (``isn't`` → ``is``, ``not``)."""
    expanded: list[str] = []
    for token in tokens:
        expanded.extend(_expand(token))
    return expanded


def decisive_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    """The tokens a similar prompt must share, in order: all but the filler words."""
    expanded = expand_contractions(tokens)
    out: list[str] = []
    last = len(expanded) - 1
    for i, token in enumerate(expanded):
        if token in POLITENESS:
            continue
        # An article is filler only before a word: "f(a)" and "a = 5" name a variable.
        if token in ARTICLES and i < last and classify(expanded[i + 1]) != TokenKind.SYMBOL:
            continue
        out.append(token)
    return tuple(out)


def signature(decisive: Sequence[str]) -> str:
    """Stable 128-bit hex hash of a decisive sequence: the similarity bucket's name."""
    joined = TOKEN_SEPARATOR.join(decisive).encode("utf-8")
    return hashlib.sha256(joined).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Whether two prompts may share an answer, and if not, the first reason why not."""

    ok: bool
    reason: str = ""
    kind: str = ""

    def __bool__(self) -> bool:
        return self.ok


def _kind_of(token: str) -> str:
    if token in NEGATIONS:
        return "negation"
    if token in POLARITY_WORDS:
        return "polarity"
    return classify(token).value


def check_tokens(a: Sequence[str], b: Sequence[str]) -> GuardVerdict:
    """Compare two *normalised* token sequences (see :func:`check`)."""
    da, db = decisive_tokens(a), decisive_tokens(b)
    if da == db:
        return GuardVerdict(True)
    only_a = Counter(da) - Counter(db)
    only_b = Counter(db) - Counter(da)
    if not only_a and not only_b:
        return GuardVerdict(False, "same decisive words in a different order", "order")
    # Name the most telling difference: numbers and negations first, plain words last.
    rank = ["number", "negation", "quoted", "email", "url", "identifier", "polarity",
            "symbol", "word"]  # fmt: skip
    diffs = [(_kind_of(t), t, "first") for t in only_a] + [
        (_kind_of(t), t, "second") for t in only_b
    ]
    diffs.sort(key=lambda d: rank.index(d[0]) if d[0] in rank else len(rank))
    kind, token, side = diffs[0]
    return GuardVerdict(False, f"{kind} {token!r} only in the {side} prompt", kind)


def check(a: str, b: str) -> GuardVerdict:
    """May a cached answer to prompt ``a`` be served for prompt ``b``?

    ``ok`` is true when their decisive tokens are equal and in the same order; ``reason``
    names the first decisive difference otherwise.
    """
    return check_tokens(
        [t for t, _ in tokenize(a)],
        [t for t, _ in tokenize(b)],
    )


def decisive_of_normalized(normalized: str) -> tuple[str, ...]:
    """Decisive tokens of a stored normal form (see :func:`.normalize.normalize_prompt`)."""
    return decisive_tokens(split_normalized(normalized))
