"""The guard's meaning level (:mod:`llm_dispatch.cache.meaning_guard`): what it lets differ,
what it never does, and that the vector index hands it every candidate it would accept."""

from __future__ import annotations

import pytest

from llm_dispatch.cache import HashingVectorizer
from llm_dispatch.cache.meaning_guard import check_meaning, guard_level, named_entities

try:
    from cache_pairs import hits, load_pairs
except ImportError:  # tests/ imported as a package
    from tests.cache_pairs import hits, load_pairs


class EverythingIsTheSame:
    """A vectorizer that claims to judge meaning and calls every prompt identical."""

    dense = True
    judges_meaning = True
    name = "everything-is-the-same"

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]


class DenseOnly:
    dense = True

    async def __call__(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]


def test_the_level_follows_what_the_vectorizer_declares() -> None:
    assert guard_level(HashingVectorizer()) == "words"
    assert guard_level(DenseOnly()) == "words"  # dense is not enough: it must judge meaning
    assert guard_level(EverythingIsTheSame()) == "meaning"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("How tall is Mount Everest?", "What is the height of Mount Everest?"),
        ("Explain closures in JavaScript", "Give me an explanation of JavaScript closures"),
        ("Translate 'good night' to French", "How do you say 'good night' in French?"),
        ("Flights from Paris to Rome", "Flights to Rome from Paris"),
        ("Write an email to my boss", "Write an e-mail to my boss"),
    ],
)
def test_plain_content_words_may_differ(first: str, second: str) -> None:
    assert check_meaning(first, second), check_meaning(first, second).reason


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        ("How tall is Mount Everest?", "How tall is Mount Everest in 1950?", "number"),
        ("Convert three miles to km", "Change 4 miles into km", "number"),
        ("Is coffee healthy for adults?", "Is coffee not healthy for grown-ups?", "negation"),
        ("Is it safe to reheat rice?", "Is reheating rice unsafe?", "negation"),
        ("Write a function accepting a list", "Write a function declining lists", "polarity"),
        ("What is the capital of Chile?", "What is the largest city of Chile?", "degree"),
        ("Fix `foo()` in my code", "Repair `bar()` in my code", "quoted"),
        ("What does os.path do?", "What is the purpose of os.walk?", "identifier"),
        ("What does the -r flag do in rm?", "Explain the -f flag of rm", "identifier"),
        ("Email bob@example.com a reply", "Send alice@example.com a reply", "email"),
        ("Summarise https://a.example/x", "Give a summary of https://a.example/y", "url"),
        ("Is Python hard to learn?", "Is learning Rust difficult?", "entity"),
        ("Who is the current president of Chile?", "Who was the president of Chile?", "tense"),
        ("Can I eat raw eggs?", "Should I be eating raw eggs?", "tense"),
        ("What is your name?", "Tell me my name", "person"),
        ("How can I stop procrastinating?", "Why do I keep procrastinating?", "question"),
        ("Convert 100 Fahrenheit to Celsius", "Change 100 Celsius into Fahrenheit degrees",
         "order"),
        ("Write a poem about the sea", "Write a song about the sea", "swap"),
    ],
)  # fmt: skip
def test_decisive_differences_are_rejected(first: str, second: str, kind: str) -> None:
    for a, b in ((first, second), (second, first)):
        verdict = check_meaning(a, b)
        assert not verdict.ok and verdict.reason, (a, b)
        assert verdict.kind == kind, verdict.reason


def test_named_entities_are_capitalised_words_not_sentence_openers() -> None:
    assert named_entities("How do I learn Rust after Python?") == {"rust", "python"}
    assert named_entities("Python: how? Explain closures. Write code for NASA.") == set()


def test_the_meaning_level_is_symmetric_on_the_labelled_pairs() -> None:
    paraphrases, near_misses = load_pairs()
    for pair in paraphrases + near_misses:
        assert bool(check_meaning(pair.first, pair.second)) == bool(
            check_meaning(pair.second, pair.first)
        ), pair


async def test_the_meaning_level_alone_rejects_every_near_miss() -> None:
    """Even a vectorizer that calls every prompt identical serves no near miss."""
    pytest.importorskip("numpy")  # the vector index
    _, near_misses = load_pairs()
    for reverse in (False, True):
        wrong = await hits(
            near_misses, threshold=0.01, vectorizer=EverythingIsTheSame(), reverse=reverse
        )
        assert wrong == []
    for pair in near_misses:
        verdict = check_meaning(pair.first, pair.second)
        assert not verdict.ok and verdict.reason, pair


async def test_every_pair_the_meaning_level_accepts_is_a_candidate() -> None:
    """Blocking never hides what the guard accepts: the vector index finds it."""
    pytest.importorskip("numpy")
    paraphrases, _ = load_pairs()
    accepted = [p for p in paraphrases if check_meaning(p.first, p.second)]
    assert len(accepted) >= 130
    found = await hits(paraphrases, threshold=0.01, vectorizer=EverythingIsTheSame())
    assert found == accepted
