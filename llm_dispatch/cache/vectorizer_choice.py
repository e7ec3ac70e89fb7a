"""The vectorizer a cache uses: the one given in code, or the one its options name."""

from __future__ import annotations

from .options import CacheOptions
from .similarity import HashingVectorizer, Vectorizer

__all__ = ["configured_vectorizer"]


def configured_vectorizer(options: CacheOptions, given: Vectorizer | None) -> Vectorizer:
    """``given`` when there is one, else the vectorizer named by ``options.vectorizer``.

    A vectorizer given in code replaces the option; the option must then be left at its
    default, so that a configuration never names a vectorizer the cache does not use.
    """
    if given is not None:
        if options.vectorizer != "hashing":
            raise ValueError(
                f"the cache options name vectorizer {options.vectorizer!r} and another "
                "vectorizer was given: pass one or the other"
            )
        return given
    if options.vectorizer == "semantic":
        from .semantic import WordLlamaVectorizer

        return WordLlamaVectorizer()
    return HashingVectorizer()
