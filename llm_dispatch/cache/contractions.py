"""Contractions spelled out, so that a negation is always a word of its own.

``what's`` → ``what is``, ``isn't`` → ``is not``, ``can't`` / ``cannot`` → ``can not``,
``won't`` → ``will not``, ``shan't`` → ``shall not``, ``let's`` → ``let us``, and the
suffixes ``'re`` ``'ve`` ``'ll`` ``'m`` → ``are`` ``have`` ``will`` ``am``. ``'s`` is
expanded to ``is`` only after pronouns and question words; after any other word it is a
possessive (``John's``) and :func:`expand_contractions` leaves it to the caller. ``'d``
(had / would) is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["expand_contractions"]

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
