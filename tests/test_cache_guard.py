"""The meaning-flip guard and prompt normalisation: what may and may not share an answer."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llm_dispatch.cache import StreamingCache, check
from llm_dispatch.cache.guard import decisive_tokens
from llm_dispatch.cache.normalize import TokenKind, normalize_prompt, tokenize

try:
    from cache_fixtures import backend, make_cache, req, stream
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import backend, make_cache, req, stream  # noqa: F401

# Pairs whose answers differ: never a hit, whatever the similarity score.
MEANING_FLIPS = [
    ("Write a haiku about Python", "Write a haiku about Rust"),
    ("Convert 100 Fahrenheit to Celsius", "Convert 101 Fahrenheit to Celsius"),
    ("Is coffee good for health?", "Is coffee bad for health?"),
    ("add 2 and 3", "add 2 and 4"),
    ("What is the capital of France?", "What is the capital of Spain?"),
    ("How do I make coffee with sugar?", "How do I make coffee without sugar?"),
    ("Send the report to user@a.com", "Send the report to user@b.com"),
    ("Explain def foo(): in this code", "Explain def bar(): in this code"),
    ("Should we increase the price?", "Should we decrease the price?"),
    ("Convert USD to EUR", "Convert EUR to USD"),
    ("Is coffee good?", "Isn't coffee good?"),
    ("Is coffee good?", "Is coffee not good?"),
    ("Reverse the string 'Hello'", "Reverse the string 'hello'"),
    ('Count the spaces in "a  b"', 'Count the spaces in "a b"'),
    ("What is the US economy like?", "What is the us economy like?"),
    ("What is plan A?", "What is the plan?"),
    ("Compute 2+3*4", "Compute (2+3)*4"),
    ("What is f(a) here?", "What is f() here?"),
    ("Is 5 prime?", "Is -5 prime?"),
    ("Print 1,000", "Print 1000"),
    ("Summarise https://a.example/x", "Summarise https://a.example/y"),
    ("What does os.path do?", "What does os.Path do?"),
    ("List the pros of remote work", "List the cons of remote work"),
    ("Sort ascending", "Sort descending"),
    ("Write a poem", "Write two poems"),
    ("Write a haiku about Python", "Write a haiku about Python and Rust"),
]

# Pairs that ask the same thing: case, punctuation and whitespace variants are exact hits.
EXACT_VARIANTS = [
    ("Write a haiku about Python", "write a haiku about python"),
    ("Write a haiku about Python", "WRITE A HAIKU ABOUT PYTHON"),
    ("Write a haiku about Python", "Write a haiku about Python!"),
    ("Write a haiku about Python", "Write a haiku, about Python..."),
    ("Write a haiku about Python", "  Write   a\thaiku\nabout   Python  "),
    ("Is coffee good for health?", "is coffee good for health"),
    ("How can I sort a list in Python?", "how can i sort a list in python"),
]

# Wording differences: similar (not exact) hits at the default threshold.
SIMILAR_VARIANTS = [
    ("Write a haiku about Python", "Please write a haiku about Python"),
    ("Write a haiku about Python", "Write the haiku about Python"),
    ("What is the capital of France?", "What's the capital of France?"),
    ("Why isn't my code working?", "Why is not my code working?"),
    ("Write a haiku about Python", "Could you write me a haiku about Python?"),
    ("Write a haiku about Python", "Compose a haiku about Python"),
    ("How do I reverse a list in Python?", "Can you tell me how I can reverse a list in Python?"),
    ("How do I reverse a list in Python?", "In Python, how do I reverse a list?"),
    ("Give me three examples of prime numbers", "List 3 examples of prime numbers"),
    ("Convert 100 Fahrenheit to Celsius", "Please convert 100 Fahrenheit into Celsius"),
]


@pytest.mark.parametrize(("first", "second"), MEANING_FLIPS)
def test_guard_rejects_meaning_flips(first: str, second: str) -> None:
    verdict = check(first, second)
    assert not verdict.ok
    assert verdict.reason


@pytest.mark.parametrize(("first", "second"), EXACT_VARIANTS + SIMILAR_VARIANTS)
def test_guard_accepts_variants(first: str, second: str) -> None:
    assert check(first, second).ok


def test_guard_names_the_difference() -> None:
    assert check("Convert 100 F", "Convert 101 F").kind == "number"
    assert check("coffee with sugar", "coffee without sugar").kind == "negation"
    assert check("good coffee", "bad coffee").kind == "polarity"
    assert check("mail a@b.com", "mail c@b.com").kind == "email"
    assert check("USD to EUR", "EUR to USD").kind == "order"
    assert check("say 'hi'", "say 'yo'").kind == "quoted"


@pytest.mark.parametrize(("first", "second"), MEANING_FLIPS)
async def test_meaning_flips_miss_even_when_scores_are_perfect(
    make_cache: Callable[..., StreamingCache], first: str, second: str
) -> None:
    """A vectorizer that calls every prompt identical cannot get past the guard."""

    async def everything_is_the_same(texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0] for _ in texts]

    cache = make_cache(similarity_threshold=0.01, vectorizer=everything_is_the_same)
    await cache.store(req(first), stream("answer to the first"), route="r")
    assert await cache.lookup(req(second), route="r") is None
    assert (await cache.lookup(req(first), route="r")) is not None


@pytest.mark.parametrize(("first", "second"), EXACT_VARIANTS)
async def test_case_punctuation_whitespace_variants_are_exact_hits(
    make_cache: Callable[..., StreamingCache], first: str, second: str
) -> None:
    cache = make_cache()
    await cache.store(req(first), stream("stored"), route="r")
    hit = await cache.lookup(req(second), route="r")
    assert hit is not None and hit.exact and hit.entry.text == "stored"


@pytest.mark.parametrize(("first", "second"), SIMILAR_VARIANTS)
async def test_filler_variants_are_similar_hits(
    make_cache: Callable[..., StreamingCache], first: str, second: str
) -> None:
    cache = make_cache()
    await cache.store(req(first), stream("stored"), route="r")
    hit = await cache.lookup(req(second), route="r")
    assert hit is not None and not hit.exact
    assert 0.95 <= hit.similarity <= 1.0
    assert cache.stats().similar_hits == 1


# -- normalisation ---------------------------------------------------------------------------


def texts(prompt: str) -> list[str]:
    return [t for t, _ in tokenize(prompt)]


def test_tokens_keep_what_decides_and_drop_sentence_punctuation() -> None:
    assert texts("Convert 100 Fahrenheit to Celsius!") == [
        "convert", "100", "fahrenheit", "to", "celsius",
    ]  # fmt: skip
    assert texts("Reverse 'Hello World' in C++") == ["reverse", "'Hello World'", "in", "C", "++"]
    assert texts("Mail user@a.com, see https://x.example/a.") == [
        "mail", "user@a.com", "see", "https://x.example/a",
    ]  # fmt: skip
    assert texts("os.path.join and my_var and camelCase") == [
        "os.path.join", "and", "my_var", "and", "camelCase",
    ]  # fmt: skip


def test_case_rules() -> None:
    assert texts("Python PYTHON python") == ["python", "PYTHON", "python"]
    assert texts("WRITE ABOUT PYTHON") == ["write", "about", "python"]  # caps lock
    assert texts("A plan A") == ["a", "plan", "A"]  # article vs name
    assert texts("I think I can") == ["i", "think", "i", "can"]
    assert texts("iPhone GitHub") == ["iPhone", "GitHub"]


def test_verbatim_spans_are_byte_for_byte() -> None:
    code = "```py\nif x:\n    return  1\n```"
    tokens = tokenize(f"Explain {code}")
    assert tokens[-1] == (code, TokenKind.VERBATIM)
    assert normalize_prompt("Say `Hi  there`") != normalize_prompt("Say `hi there`")


def test_unicode_and_quotes_are_normalised() -> None:
    assert normalize_prompt("\u201cHi\u201d \uff30ython") == normalize_prompt('"Hi" Python')
    assert normalize_prompt("It\u2019s fine") == normalize_prompt("It's fine")


def test_decisive_tokens_drop_only_filler() -> None:
    assert decisive_tokens(texts("Please write the haiku about a cat")) == (
        "write", "haiku", "about", "cat",
    )  # fmt: skip
    # Contractions are spelled out, so the negations stay; "is" and "it" are filler.
    assert decisive_tokens(texts("isn't it can't")) == ("not", "can", "not")
    # An article before a symbol is a variable, not an article.
    assert "a" in decisive_tokens(texts("f(a) = a + 1"))
