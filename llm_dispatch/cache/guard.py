"""The meaning-flip guard: when may a *similar* (not identical) prompt reuse an answer?

Similarity scores cannot be trusted with meaning: "Convert 100 Fahrenheit to Celsius" and
"Convert 101 Fahrenheit to Celsius" score 0.98 with most vectorizers, and so do "haiku about
Python" / "haiku about Rust" or "good for health" / "bad for health". So a similar hit needs
more than a score. The guard compares the two prompts' canonical forms
(:mod:`.canonical`): their *content words*, after contractions, question frames,
politeness, filler, number words, plurals, spelling variants and verb synonyms were folded.

The guard has two levels, chosen by the vectorizer (:func:`.meaning_guard.guard_level`):

- the **word** level, this module: for the default hashing vectorizer and every vectorizer
  that does not declare that it judges meaning. It cannot tell a synonym from another
  topic, so content words may not differ;
- the **meaning** level (:mod:`.meaning_guard`), for a vectorizer whose class sets
  ``judges_meaning = True`` and ``dense = True`` (:class:`.semantic.WordLlamaVectorizer`):
  plain content words may differ; numbers, negations, antonyms and graded words, quoted
  strings and code, identifiers, e-mail addresses, URLs, named entities, persons, tense,
  what a question asks for, the operands of direction words and one-word swaps are
  checked (see that module for the exact rules).

The word level accepts a pair only when all of these hold:

1. **The same content words** (as a multiset; their order is rule 4's business). This is
   what makes every decisive kind of word decide:

   - numbers, digits or words (``three`` = ``3``, ``100`` ≠ ``101``; ``1,000`` ≠ ``1000``
     and ``5`` ≠ ``-5``: digits are compared literally, never parsed);
   - negations (``not``, ``no``, ``never``, ``without``, ``n't`` ...) and negating prefixes
     (``unsafe`` / ``safe``, ``non-blocking`` / ``blocking``);
   - antonyms (``good`` / ``bad``, ``increase`` / ``decrease``, ``min`` / ``max``,
     ``ascending`` / ``descending``: :data:`.lexicon.ANTONYMS`, which no synonym, spelling
     rule or filler list ever merges or drops);
   - quoted strings and code spans (byte for byte), identifiers (``os.path`` ≠
     ``os.Path``, ``gpt-4``), e-mail addresses, URLs, operators and brackets;
   - named entities: capitalised names are content words (``Python`` ≠ ``Rust``,
     ``France`` ≠ ``Spain``), and ALL-CAPS words and lone capitals keep their case
     (``US`` ≠ ``us``, ``plan A``);
   - and every other content word: a word is dropped only if a table of
     :mod:`.lexicon` or a frame of :mod:`.phrases` says it cannot change the question.

2. **Numbers in the same order** (``10 minus 3`` ≠ ``3 minus 10``).
3. **Direction words bind the same operands.** Each of ``to``, ``from``, ``into``,
   ``than``, ``vs``, ``versus``, ``of``, ``by``, ``before``, ``after``, ``over`` ...
   (:data:`.lexicon.DIRECTION_WORDS`) and each negation is paired with the content word
   right after it; the pairs must be equal. "100 Fahrenheit to Celsius" ≠ "100 Celsius to
   Fahrenheit", "Python faster than Java" ≠ "Java faster than Python", "Is coffee not
   good?" ≠ "Is not coffee good?".
4. **Word order up to one moved block.** The second prompt's content words must be the
   first's with at most one contiguous block moved elsewhere: "how do I reverse a list in
   Python" = "in Python, how do I reverse a list", "should I learn Rust or Go first" =
   "should I first learn Rust or Go". Two neighbouring words swapped is not such a move
   ("house cat" ≠ "cat house"), nor two words swapped around a third ("dog bites man" ≠
   "man bites dog").

What a similar hit may therefore differ in: letter case, whitespace, punctuation (already
equal after normalisation), articles, politeness, question frames, filler words, number
words against digits, plural against singular, spelling variants, the verb synonyms of
:data:`.lexicon.SYNONYMS`, and the place of one block of words. The similarity threshold
then decides how much of that wording may differ. The guard applies whatever the
vectorizer.

Because an accepted pair always has the same content multiset, its sorted content words
are the *blocking key* of the similarity index (:func:`signature`): every prompt the guard
could accept lives in the bucket of that key, so a lookup scores only that bucket and
never misses a candidate the guard would accept.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from .canonical import canonical_of_normalized, canonicalize
from .inflection import fold
from .lexicon import ANTONYMS, DIRECTION_WORDS, NEGATION_PREFIXES, NEGATIONS, SYNONYMS
from .normalize import TOKEN_SEPARATOR, TokenKind, classify, tokenize

__all__ = [
    "GuardVerdict",
    "antonyms_of",
    "bindings",
    "check",
    "check_decisive",
    "check_tokens",
    "decisive_of_normalized",
    "decisive_tokens",
    "negated_by_prefix",
    "signature",
]

_BINDERS = DIRECTION_WORDS | NEGATIONS


def _forms_of(word: str) -> set[str]:
    """A table word as content words may read: folded, and as its verb group's name."""
    form = fold(word)
    return {form, SYNONYMS.get(form, form)}


# Antonyms as they read among content words: "create" / "delete" are "write" / "remove".
_ANTONYM_FORMS: dict[str, frozenset[str]] = {}
for _word, _opposites in ANTONYMS.items():
    _opposite_forms = {form for o in _opposites for form in _forms_of(o)}
    for _form in _forms_of(_word):
        _ANTONYM_FORMS[_form] = _ANTONYM_FORMS.get(_form, frozenset()) | _opposite_forms

# The order in which differences are named: the most telling first.
_RANK = ("number", "negation", "quoted", "email", "url", "identifier", "polarity", "symbol",
         "word")  # fmt: skip


def decisive_tokens(tokens: Sequence[str]) -> tuple[str, ...]:
    """The content words a similar prompt must share (see the module docstring)."""
    return canonicalize(tokens).content


def decisive_of_normalized(normalized: str) -> tuple[str, ...]:
    """Decisive tokens of a stored normal form (see :func:`.normalize.normalize_prompt`)."""
    return canonical_of_normalized(normalized).content


def signature(decisive: Sequence[str]) -> str:
    """Stable 128-bit hex hash of the sorted decisive tokens: the similarity bucket's name.

    Order-free, because the guard accepts a moved block; equal for any two prompts the guard
    accepts, because it demands the same content multiset.
    """
    joined = TOKEN_SEPARATOR.join(sorted(decisive)).encode("utf-8")
    return hashlib.sha256(joined).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Whether two prompts may share an answer, and if not, the first reason why not."""

    ok: bool
    reason: str = ""
    kind: str = ""

    def __bool__(self) -> bool:
        return self.ok


def negated_by_prefix(word: str, others: set[str]) -> bool:
    """``unsafe`` when ``safe`` is in the other prompt, ``non-blocking`` for ``blocking``."""
    return any(
        word.startswith(prefix) and word[len(prefix) :] in others
        for prefix in NEGATION_PREFIXES
        if len(word) > len(prefix) + 2
    )


def antonyms_of(word: str) -> frozenset[str]:
    """The folded antonyms of a folded word (:data:`.lexicon.ANTONYMS`)."""
    return _ANTONYM_FORMS.get(word, frozenset())


def _kind_of(token: str, other_side: set[str]) -> str:
    if token in NEGATIONS or negated_by_prefix(token, other_side):
        return "negation"
    if _ANTONYM_FORMS.get(token, frozenset()) & other_side:
        return "polarity"
    return classify(token).value


def _name_difference(a: Sequence[str], b: Sequence[str]) -> GuardVerdict:
    only_a = Counter(a) - Counter(b)
    only_b = Counter(b) - Counter(a)
    diffs = [(_kind_of(t, set(only_b)), t, "first") for t in only_a] + [
        (_kind_of(t, set(only_a)), t, "second") for t in only_b
    ]
    diffs.sort(key=lambda d: _RANK.index(d[0]) if d[0] in _RANK else len(_RANK))
    kind, token, side = diffs[0]
    return GuardVerdict(False, f"{kind} {token!r} only in the {side} prompt", kind)


def bindings(content: Sequence[str]) -> Counter[tuple[str, str]]:
    """Each direction word or negation with the content word right after it."""
    return Counter(
        (word, content[i + 1] if i + 1 < len(content) else "")
        for i, word in enumerate(content)
        if word in _BINDERS
    )


def one_block_move(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether ``b`` is ``a`` with at most one contiguous block moved, and not merely two
    neighbouring words swapped.

    After the longest common prefix and suffix, the middles must be rotations of each
    other (``P X Y S`` → ``P Y X S``) and longer than two words: a swap of two neighbours
    is how a compound or a role flips ("house cat" / "cat house", "cups in a liter" /
    "liters in a cup" once filler is gone). With repeated words this can miss a real single
    move (a miss, never a false acceptance).
    """
    if len(a) != len(b):
        return False
    n = len(a)
    start = 0
    while start < n and a[start] == b[start]:
        start += 1
    if start == n:
        return True
    end = n
    while end > start and a[end - 1] == b[end - 1]:
        end -= 1
    middle_a, middle_b = list(a[start:end]), list(b[start:end])
    if len(middle_a) == 2:
        return False  # two neighbours swapped: "house cat" / "cat house"
    return any(middle_a[k:] + middle_a[:k] == middle_b for k in range(1, len(middle_a)))


def check_decisive(a: Sequence[str], b: Sequence[str]) -> GuardVerdict:
    """Compare two decisive (content) sequences: the four rules of the module docstring."""
    if tuple(a) == tuple(b):
        return GuardVerdict(True)
    if Counter(a) != Counter(b):
        return _name_difference(a, b)
    numbers_a = [t for t in a if classify(t) == TokenKind.NUMBER]
    numbers_b = [t for t in b if classify(t) == TokenKind.NUMBER]
    if numbers_a != numbers_b:
        return GuardVerdict(False, "the same numbers in another order", "order")
    bound_a, bound_b = bindings(a), bindings(b)
    if bound_a != bound_b:
        word, operand = next(iter(bound_a - bound_b))
        kind = "negation" if word in NEGATIONS else "order"
        what = repr(operand) if operand else "nothing"
        return GuardVerdict(False, f"{word!r} applies to {what} only in the first prompt", kind)
    if not one_block_move(a, b):
        return GuardVerdict(False, "same decisive words in another order", "order")
    return GuardVerdict(True)


def check_tokens(a: Sequence[str], b: Sequence[str]) -> GuardVerdict:
    """Compare two *normalised* token sequences (see :func:`check`)."""
    return check_decisive(decisive_tokens(a), decisive_tokens(b))


def check(a: str, b: str) -> GuardVerdict:
    """May a cached answer to prompt ``a`` be served for prompt ``b``?

    ``ok`` is true when the rules of the module docstring hold; ``reason`` names the first
    decisive difference otherwise.
    """
    return check_tokens([t for t, _ in tokenize(a)], [t for t, _ in tokenize(b)])
