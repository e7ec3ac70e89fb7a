"""The guard's *meaning* level: for vectorizers that judge what a prompt means.

The word level (:mod:`.guard`) demands the same content words: the only judge of meaning
it can trust is its own word tables, because the hashing vectorizer scores words, not
meaning. A vectorizer of sentence embeddings can tell "reverse a list" from "invert a
list" on its own, so with one that declares it (:func:`guard_level`) the guard lets the
*non-decisive* content words differ and checks only what decides an answer. Two prompts
pass when all of these hold:

1. **No decisive word on one side only.** A content word found in one prompt and not in
   the other may differ only if it is a plain word of none of these kinds:

   - numbers, digits or words (number words are digits by then: ``three`` = ``3``);
   - quoted strings and code spans, identifiers (``os.path``, ``gpt-4``, ``camelCase``,
     ALL-CAPS words, a lone capital as in ``plan A``), e-mail addresses, URLs and symbols:
     every token the tokeniser did not class as a plain word; and a lone letter (the
     ``r`` of ``-r``, a variable ``x``);
   - negations (:data:`.lexicon.NEGATIONS`: ``not``, ``no``, ``without``, ``except`` ...,
     contractions spelled out), and a word made of a negating prefix
     (:data:`.lexicon.NEGATION_PREFIXES`) and a word of the other prompt (``unsafe`` /
     ``safe``, ``non-blocking`` / ``blocking``);
   - a word whose antonym (:data:`.lexicon.ANTONYMS`, read through the verb groups and
     bare stems: ``accepting`` / ``declining``) is in the other prompt;
   - a graded word: a comparative or superlative of a word of the antonym table
     (``largest``, ``faster``) or ``best``, ``worst``, ``more``, ``most`` ...: "the largest
     city" asks a ranking "the capital" does not;
   - what a question asks for: ``why``, ``who``, ``when``, ``where`` (a reason, a person,
     a time, a place; ``how``, ``what`` and ``which`` only frame a question and may
     differ: "how tall" = "what height");
   - tense and mood (:data:`.lexicon.TENSE_AND_MOOD`: ``was``, ``did``, ``will``,
     ``can``, ``should`` ...: "who is" / "who was", "can I" / "should I").

2. **The same named entities.** A capitalised word that does not open a sentence
   (``Python``, ``France``, ``Rust``) must appear among the other prompt's content words
   (a name opening a sentence is still a content word: rule 6 and the score judge it).

3. **The same person.** The grammatical persons each prompt names (:data:`.lexicon.PERSONS`:
   first, second, third) may differ only by one prompt naming more: "what is your name" ≠
   "what is my name", while "undo the last commit" = "undo my last commit". Persons are
   read from the content words, and from the prompts as written where the content words
   differ in person: a question frame drops a generic person ("how do I exit vim" = "how
   do you exit vim") but keeps a real one ("how do you feel about AI" ≠ "how do I feel
   about AI").

   Rules 2 and 3 read the prompts as written (the normal form has folded capitals, and
   question frames drop "how do I"), so they run where both texts are at hand:
   :func:`check_meaning`, and :func:`.matching.decode_entry` on the entry read back.

4. **Numbers in the same order** (``10 minus 3`` ≠ ``3 minus 10``).

5. **Direction words and negations bind the same operands**, read on the words the two
   prompts share: each direction word (:data:`.lexicon.DIRECTION_WORDS`) or negation is
   paired with the next content word both prompts have; for each such word present in
   both, the operands of one prompt must include the other's ("100 Fahrenheit to
   Celsius" ≠ "100 Celsius to Fahrenheit", "flights from Paris to Rome" ≠ "flights to
   Paris from Rome"; "to Celsius" = "into degrees Celsius" once ``degrees`` is skipped).

6. **A one-word swap keeps the words.** When the prompts differ by exactly one word on
   each side, the two must be spellings of one word (``e-mail`` / ``email``) or framing
   words of one class: question words (``what`` / ``which``), request verbs (``write`` /
   ``show``), ``if`` / ``whether``. Any other swap (``poem`` / ``song``, ``boil`` /
   ``poach``, ``for`` / ``about``) is rejected: in an otherwise identical prompt one
   swapped word moves an averaged sentence embedding only a little, so the score cannot
   tell a synonym from another topic, and the guard does not ask it to.

When the two prompts have the same content words, the word level's rules apply as they
are (numbers in order, operands, one moved block): a reordering of the same words is
judged by order, which an embedding of the words may not see.

What may differ beyond the word level: plain content words of none of the kinds above
(verbs, nouns, adjectives, prepositions), as long as more than one word differs or the
one swap is a framing word; the vectorizer's score and the threshold judge the rest.
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
    decisive_tokens,
    negated_by_prefix,
)
from .inflection import fold
from .lexicon import (
    DIRECTION_WORDS,
    NEGATIONS,
    PERSONS,
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

_BINDERS = DIRECTION_WORDS | NEGATIONS

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
    named entities (rule 2) and the grammatical persons it names (rule 3)."""

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
        before = text[: match.start()]
        if not before.strip() or _SENTENCE_END.search(before):
            continue  # a capital opening a sentence says nothing
        found.add(fold(word.casefold().removesuffix("'s")))
    return frozenset(found)


@lru_cache(maxsize=4096)
def _forms(word: str) -> frozenset[str]:
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
    return frozenset(forms)


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


def _decisive_kind(token: str, own: set[str], other: set[str], other_forms: set[str]) -> str:
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
    other_forms = {form for word in other for form in _forms(word)}
    for token in only:
        kind = _decisive_kind(token, own, other, other_forms)
        if kind:
            return GuardVerdict(False, f"{kind} {token!r} only in the {side} prompt", kind)
    return GuardVerdict(True)


def _check_written(
    written_a: Written, written_b: Written, set_a: set[str], set_b: set[str]
) -> GuardVerdict:
    """Rules 2 and 3."""
    for entities, own, other, side in (
        (written_a.entities, set_a, set_b, "first"),
        (written_b.entities, set_b, set_a, "second"),
    ):
        for entity in sorted(entities & own - other):
            return GuardVerdict(False, f"name {entity!r} only in the {side} prompt", "entity")
    # A question frame drops a generic person ("how do I exit vim" = "how do you exit
    # vim"), so persons as written count only where the content words differ in person.
    if _person_conflict(written_a.persons, written_b.persons) and _persons(set_a) != _persons(
        set_b
    ):
        which = ", ".join(sorted(written_a.persons ^ written_b.persons))
        return GuardVerdict(False, f"another person ({which})", "person")
    return GuardVerdict(True)


def _person_conflict(persons_a: Iterable[str], persons_b: Iterable[str]) -> bool:
    """Each prompt names a person the other does not."""
    a, b = set(persons_a), set(persons_b)
    return bool(a - b and b - a)


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
    docstring (2 and 3 only when both prompts as written are given)."""
    count_a, count_b = Counter(a), Counter(b)
    set_a, set_b = set(a), set(b)
    if count_a == count_b:
        verdict = check_decisive(a, b)
        if verdict and written_a is not None and written_b is not None:
            return _check_written(written_a, written_b, set_a, set_b)
        return verdict
    only_a, only_b = count_a - count_b, count_b - count_a
    for only, own, other, side in (
        (only_a, set_a, set_b, "first"),
        (only_b, set_b, set_a, "second"),
    ):
        verdict = _one_sided(only, own, other, side)
        if not verdict:
            return verdict
    if _person_conflict(_persons(set_a), _persons(set_b)):
        return GuardVerdict(False, "another person", "person")
    if only_a.total() == 1 and only_b.total() == 1:
        (old,), (new,) = only_a, only_b
        if not _swap_allowed(old, new):
            return GuardVerdict(False, f"{old!r} swapped for {new!r}", "swap")
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


def check_meaning(a: str, b: str) -> GuardVerdict:
    """May a cached answer to prompt ``a`` be served for prompt ``b`` at the meaning level?

    ``ok`` is true when every rule of the module docstring holds; ``reason`` names the
    first decisive difference otherwise."""
    content_a = decisive_tokens([t for t, _ in tokenize(a)])
    content_b = decisive_tokens([t for t, _ in tokenize(b)])
    return check_meaning_decisive(content_a, content_b, as_written(a), as_written(b))
