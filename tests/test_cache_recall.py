"""The labelled prompt pairs through the real cache: paraphrases hit, near misses never do.

The pairs are ``tests/data/cache_pairs.yaml`` (see ``tests/cache_pairs.py``): for each, the
first prompt's answer is stored in a :class:`StreamingCache` and the second is looked up.
"""

from __future__ import annotations

from collections import Counter

try:
    from cache_pairs import evaluate, hits, load_pairs
except ImportError:  # tests/ imported as a package
    from tests.cache_pairs import evaluate, hits, load_pairs

from llm_dispatch.cache import check
from llm_dispatch.cache.guard import decisive_tokens, signature
from llm_dispatch.cache.normalize import tokenize

TASK_KINDS = {"code", "facts", "conversions", "translation", "opinions", "how-to", "summaries"}
HARD_TRAPS = {"digit", "number word", "direction", "prefix", "negation", "language", "entity"}


def test_the_labelled_set_is_large_and_covers_every_kind() -> None:
    paraphrases, near_misses = load_pairs()
    assert len(paraphrases) >= 100 and len(near_misses) >= 100
    assert {p.kind for p in paraphrases} >= TASK_KINDS
    assert {p.kind for p in near_misses} >= TASK_KINDS
    traps = Counter(p.trap for p in near_misses)
    assert all(traps[t] >= 5 for t in HARD_TRAPS), traps
    pairs = [(p.first, p.second) for p in paraphrases + near_misses]
    assert len(set(pairs)) == len(pairs), "a pair is listed twice"
    # Exact variants would prove nothing about similarity: every pair differs in wording.
    for first, second in pairs:
        assert [t for t, _ in tokenize(first)] != [t for t, _ in tokenize(second)], first


async def test_default_cache_hits_most_paraphrases_and_no_near_miss() -> None:
    outcome = await evaluate(0.95)  # the default similarity_threshold
    assert outcome.hit_near_misses == []
    assert outcome.recall >= 0.60, f"recall {outcome.recall:.1%}"


async def test_near_misses_miss_in_both_directions() -> None:
    _, near_misses = load_pairs()
    assert await hits(near_misses, threshold=0.95, reverse=True) == []


async def test_the_guard_alone_rejects_every_near_miss() -> None:
    """Even a vectorizer that calls every prompt identical serves no near miss."""

    async def everything_is_the_same(texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]

    _, near_misses = load_pairs()
    for reverse in (False, True):
        wrong = await hits(
            near_misses, threshold=0.01, vectorizer=everything_is_the_same, reverse=reverse
        )
        assert wrong == []
    for pair in near_misses:
        verdict = check(pair.first, pair.second)
        assert not verdict.ok and verdict.reason, pair


def test_what_the_guard_accepts_shares_a_blocking_key() -> None:
    """The similarity bucket never hides a prompt the guard would accept."""
    paraphrases, near_misses = load_pairs()
    accepted = 0
    for pair in paraphrases + near_misses:
        a = decisive_tokens([t for t, _ in tokenize(pair.first)])
        b = decisive_tokens([t for t, _ in tokenize(pair.second)])
        if check(pair.first, pair.second).ok:
            accepted += 1
            assert signature(a) == signature(b), pair
    assert accepted >= 60
