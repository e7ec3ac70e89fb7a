"""The guard's *meaning* level: for vectorizers that judge what a prompt means.

The word level (:mod:`.guard`) demands the same content words: the only judge of meaning
it can trust is its own word tables, because the hashing vectorizer scores words, not
meaning. A vectorizer of sentence embeddings can tell "reverse a list" from "invert a
list" on its own, so with one that declares it (:func:`guard_level`) the guard lets the
*non-decisive* content words differ and checks only what decides an answer. Two prompts
pass when all of these hold:

1. **No decisive word on one side only.** A content word found in one prompt and not in
   the other may differ only if it is a plain word. These never may:

   - numbers, digits or words (number words are digits by then: ``three`` = ``3``);
   - negations (:data:`.lexicon.NEGATIONS`: ``not``, ``no``, ``without``, ``except`` ...,
     contractions spelled out), and a word made of a negating prefix
     (:data:`.lexicon.NEGATION_PREFIXES`) and a word of the other prompt (``unsafe`` /
     ``safe``, ``non-blocking`` / ``blocking``);
   - a word whose antonym (:data:`.lexicon.ANTONYMS`) is in the other prompt
     (``good`` / ``bad``, ``encrypt`` / ``decrypt``, ``min`` / ``max``);
   - quoted strings and code spans, identifiers (``os.path``, ``gpt-4``, ``camelCase``,
     ALL-CAPS words, a lone capital as in ``plan A``), e-mail addresses, URLs and symbols:
     every token the tokeniser did not class as a plain word.

2. **The same named entities.** A capitalised word (``Python``, ``France``, ``Rust``;
   at the start of a sentence only if it is not a common opening word such as ``How``,
   ``Write`` or ``Explain``) must appear among the other prompt's content words. The
   capitals are read from the prompts as written (the stored normal form has folded
   them), so this rule runs where both texts are at hand (:func:`check_meaning`).

3. **Numbers in the same order** (``10 minus 3`` ≠ ``3 minus 10``).

4. **Direction words and negations bind the same operands**, read on the words the two
   prompts share: each direction word (:data:`.lexicon.DIRECTION_WORDS`) or negation is
   paired with the next shared content word, and the pairs must be equal ("100 Fahrenheit
   to Celsius" ≠ "100 Celsius to Fahrenheit", "flights from Paris to Rome" ≠ "flights to
   Paris from Rome"; "to Celsius" = "into degrees Celsius" once ``degrees`` is skipped).

When the two prompts do have the same content words, the word level's rules apply as
they are (numbers in order, operands, one moved block): a reordering of the same words is
judged by order, which an embedding of the words may not see.

What may differ beyond the word level: any plain content word not listed above (verbs,
nouns, adjectives, their number), and therefore the wording as a whole, which the
vectorizer's score and the threshold then judge.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .guard import (
    GuardVerdict,
    antonyms_of,
    check_decisive,
    decisive_of_normalized,
    decisive_tokens,
    negated_by_prefix,
)
from .inflection import fold
from .lexicon import (
    ARTICLES,
    DIRECTION_WORDS,
    FILLER_WORDS,
    NEGATIONS,
    PERSONS,
    POLITENESS,
    QUESTION_WORDS,
    REQUEST_VERBS,
    SYNONYMS,
    TENSE_AND_MOOD,
)
from .normalize import TokenKind, classify, tokenize

__all__ = [
    "GuardLevel",
    "Written",
    "as_written",
    "check_meaning",
    "check_meaning_decisive",
    "guard_level",
    "named_entities",
]

GuardLevel = Literal["words", "meaning"]

# Words that open a sentence with a capital without naming anything.
_OPENER_WORDS = frozenset(
    {"can", "could", "would", "should", "will", "shall", "may", "might", "must", "i", "i'm",
     "i'd", "i've", "give", "tell", "show", "help", "make", "let", "let's", "in", "for",
     "on", "with", "my", "your", "our", "we", "you", "if", "when", "quick", "hey", "hi",
     "hello", "okay", "ok", "so", "now", "also", "and", "but", "or", "briefly", "just",
     "name", "find", "compare", "suggest", "recommend", "create", "use", "using", "any",
     "did", "was", "were", "has", "have", "had", "according", "based", "from", "at", "as",
     "please", "here", "what's", "how's", "where's", "who's", "it's", "that's"}
)  # fmt: skip
_OPENERS = _OPENER_WORDS | QUESTION_WORDS | REQUEST_VERBS | set(SYNONYMS) | set(SYNONYMS.values())
_BINDERS = DIRECTION_WORDS | NEGATIONS
_COMMON = _OPENERS | ARTICLES | FILLER_WORDS | POLITENESS | NEGATIONS | DIRECTION_WORDS

_WORD_RE = re.compile(r"[^\W\d_][\w'’-]*")
_SENTENCE_END = re.compile(r"[.!?\n]\s*$")


def guard_level(vectorizer: object) -> GuardLevel:
    """``"meaning"`` for a vectorizer whose class sets ``judges_meaning = True`` and
    ``dense = True`` (its candidates then come from the vector index, :mod:`.nearest`);
    ``"words"`` for every other one (the default hashing vectorizer included)."""
    cls = type(vectorizer)
    meaning = getattr(cls, "judges_meaning", False) is True
    return "meaning" if meaning and getattr(cls, "dense", False) is True else "words"


@dataclass(frozen=True, slots=True)
class Written:
    """What the guard reads from a prompt as written (the normal form has lost it): its
    named entities (rule 2) and the grammatical persons it names (rule 5)."""

    entities: frozenset[str] = frozenset()
    persons: frozenset[str] = frozenset()


@lru_cache(maxsize=1024)
def as_written(text: str) -> Written:
    """The :class:`Written` facts of a prompt."""
    words = {t for t, _ in tokenize(text)}
    return Written(named_entities(text), frozenset(_persons(words)))


def named_entities(text: str) -> frozenset[str]:
    """The capitalised words of ``text`` (rule 2), folded as content words are."""
    found: set[str] = set()
    for match in _WORD_RE.finditer(text):
        word = match[0].replace("’", "'")
        letters = [c for c in word if c.isalpha()]
        if len(letters) < 2 or not word[0].isupper() or all(c.isupper() for c in letters):
            continue  # lower case; ALL-CAPS and lone capitals are identifiers already
        folded = word.casefold().removesuffix("'s")
        before = text[: match.start()]
        starts = not before.strip() or bool(_SENTENCE_END.search(before))
        if starts and folded in _COMMON:
            continue
        found.add(fold(folded))
    return frozenset(found)


def _forms(word: str) -> set[str]:
    """``word`` and its bare stems (``declining`` → ``decline``), for the antonym table."""
    forms = {word}
    for ending in ("ing", "ed", "es", "s", "est", "er"):
        stem = word.removesuffix(ending)
        if stem != word and len(stem) >= 2:
            forms |= {stem, stem + "e"}
            if stem.endswith("i"):
                forms.add(stem[:-1] + "y")  # easiest → easy
            if len(stem) >= 3 and stem[-1] == stem[-2]:
                forms.add(stem[:-1])  # biggest → big
    return forms


# What a question asks for: a reason, a person, a time, a place. "how", "what" and
# "which" only frame a question ("how tall" = "what height"), so they may differ.
_ASKS_FOR = frozenset({"why", "who", "whom", "whose", "when", "where"})
_WORD_CLASSES = (
    (NEGATIONS, "negation"),
    (_ASKS_FOR, "question"),
    (TENSE_AND_MOOD, "tense"),
)
_DEGREE_WORDS = frozenset({"best", "worst", "better", "worse", "most", "least", "more", "less"})
_FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "we", "us", "our", "ours"})
_SECOND_PERSON = frozenset({"you", "your", "yours", "yourself"})


def _persons(words: Iterable[str]) -> set[str]:
    """The grammatical persons a prompt names: "first", "second", "third"."""
    found = set()
    for word in PERSONS.intersection(words):
        found.add(
            "first" if word in _FIRST_PERSON else "second" if word in _SECOND_PERSON else "third"
        )
    return found


def _decisive_kind(token: str, own: set[str], other: set[str]) -> str:
    """Why a word found on one side only decides the answer ("" if it does not)."""
    kind = classify(token)
    if kind != TokenKind.WORD:
        return kind.value
    if len(token) == 1:
        return "identifier"  # a lone letter names something: "-r", "x", "column b"
    for table, name in _WORD_CLASSES:
        if token in table:
            return name
    if negated_by_prefix(token, other) or any(
        negated_by_prefix(word, {token}) for word in other - own
    ):
        return "negation"
    other_forms = {form for word in other for form in _forms(word)}
    if any(antonyms_of(form) & other_forms for form in _forms(token)):
        return "polarity"
    if _graded(token):
        return "degree"
    return ""


def _graded(word: str) -> bool:
    """A comparative or superlative of a word of the antonym table (``largest``,
    ``better``, ``most``): it asks for a ranking or a degree, which the other prompt lacks."""
    if word in _DEGREE_WORDS:
        return True
    if not word.endswith(("est", "er")):
        return False
    return any(antonyms_of(form) for form in _forms(word) if form != word)
    return ""


def _operands(content: Sequence[str], shared: Counter[str]) -> dict[str, set[str]]:
    """Each shared direction word or negation with the next shared content word after it,
    by word."""
    found: dict[str, set[str]] = {}
    for i, word in enumerate(content):
        if word in _BINDERS and shared[word] > 0:
            operand = next((t for t in content[i + 1 :] if shared[t] > 0), "")
            found.setdefault(word, set()).add(operand)
    return found


def _one_sided(only: Iterable[str], own: set[str], other: set[str], side: str) -> GuardVerdict:
    for token in only:
        kind = _decisive_kind(token, own, other)
        if kind:
            return GuardVerdict(False, f"{kind} {token!r} only in the {side} prompt", kind)
    return GuardVerdict(True)


def _check_written(
    written_a: Written, written_b: Written, set_a: set[str], set_b: set[str]
) -> GuardVerdict:
    """Rules 2 and 5."""
    for entities, own, other, side in (
        (written_a.entities, set_a, set_b, "first"),
        (written_b.entities, set_b, set_a, "second"),
    ):
        for entity in sorted(entities & own - other):
            return GuardVerdict(False, f"name {entity!r} only in the {side} prompt", "entity")
    persons_a, persons_b = written_a.persons, written_b.persons
    if persons_a - persons_b and persons_b - persons_a:
        which = ", ".join(sorted(persons_a ^ persons_b))
        return GuardVerdict(False, f"another person ({which})", "person")
    return GuardVerdict(True)


# Words that may replace one another as the only difference of two prompts: they frame a
# request or a question ("what" / "which", "write" / "show", "if" / "whether").
_FRAMING_CLASSES = (
    QUESTION_WORDS,
    REQUEST_VERBS | frozenset(SYNONYMS.values()),
    frozenset({"if", "whether"}),
)


def _swap_allowed(old: str, new: str) -> bool:
    """Whether a one-word swap keeps the question (rule 6)."""
    if old.replace("-", "") == new.replace("-", ""):
        return True  # e-mail / email
    return any(old in words and new in words for words in _FRAMING_CLASSES)


def check_meaning_decisive(
    a: Sequence[str],
    b: Sequence[str],
    written_a: Written | None = None,
    written_b: Written | None = None,
) -> GuardVerdict:
    """Compare two content sequences at the meaning level: the rules of the module
    docstring (2 and 5 only when both prompts as written are given)."""
    count_a, count_b = Counter(a), Counter(b)
    if count_a == count_b:
        return check_decisive(a, b)
    set_a, set_b = set(a), set(b)
    only_a, only_b = count_a - count_b, count_b - count_a
    if only_a.total() == 1 and only_b.total() == 1:
        (old,), (new,) = only_a, only_b
        if not _swap_allowed(old, new):
            return GuardVerdict(False, f"{old!r} swapped for {new!r}", "swap")
    for only, own, other, side in (
        (only_a, set_a, set_b, "first"),
        (only_b, set_b, set_a, "second"),
    ):
        verdict = _one_sided(only, own, other, side)
        if not verdict:
            return verdict
    if written_a is not None and written_b is not None:
        verdict = _check_written(written_a, written_b, set_a, set_b)
        if not verdict:
            return verdict
    numbers_a = [t for t in a if classify(t) == TokenKind.NUMBER]
    numbers_b = [t for t in b if classify(t) == TokenKind.NUMBER]
    if numbers_a != numbers_b:
        return GuardVerdict(False, "the same numbers in another order", "order")
    shared = count_a & count_b
    operands_a, operands_b = _operands(a, shared), _operands(b, shared)
    for word in sorted(operands_a.keys() & operands_b.keys()):
        left, right = operands_a[word], operands_b[word]
        if not (left <= right or right <= left):
            kind = "negation" if word in NEGATIONS else "order"
            what = ", ".join(sorted(repr(o) for o in left ^ right))
            return GuardVerdict(False, f"{word!r} applies to {what} in one prompt only", kind)
    return GuardVerdict(True)


def check_meaning_normalized(normalized: str, key_decisive: Sequence[str]) -> GuardVerdict:
    """Rules 1, 3 and 4 for a stored normal form (rule 2 needs the prompts as written)."""
    return check_meaning_decisive(decisive_of_normalized(normalized), key_decisive)


def check_meaning(a: str, b: str) -> GuardVerdict:
    """May a cached answer to prompt ``a`` be served for prompt ``b`` at the meaning level?

    ``ok`` is true when every rule of the module docstring holds; ``reason`` names the
    first decisive difference otherwise."""
    content_a = decisive_tokens([t for t, _ in tokenize(a)])
    content_b = decisive_tokens([t for t, _ in tokenize(b)])
    return check_meaning_decisive(content_a, content_b, as_written(a), as_written(b))
