"""Hypothesis strategies shared by the embedding property tests: texts full of the
characters the embedding treats specially, targets in every spelling, metadata, and a
way to cut a text into chunks."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from llm_dispatch.embedding import MetadataTarget

# Text that exercises every rule: plain Unicode, plus the characters that the target and
# cluster logic and the scanner treat specially (selectors already in the text, ZWJ
# sequences, combining marks, flags, CR LF, BOM and zero-width characters).
SPECIAL = [
    " ", "\n", "\r", "\t", ".", ",", "!", "«", "a", "Z", "é", "\u0301", "\ufe0f", "\ufe0e",
    "\U000e0100", "\U000e01ef", "❤", "👩", "\u200d", "💻", "🇫", "🇷", "\ufeff", "\u200b",
    "\u200c", "²", "7", "_", "字",
]  # fmt: skip
texts = st.text(alphabet=st.characters() | st.sampled_from(SPECIAL), max_size=60)
targets = st.sampled_from(list(MetadataTarget)) | st.sampled_from(
    ["whitespace", "PUNCTUATION", "first-letter", "last_letter", "All_Characters", "end"]
)
metadata_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=8,
)
metadatas = st.dictionaries(st.text(max_size=12), metadata_values, max_size=6)


def chunked(draw: Any, text: str) -> list[str]:
    """``text`` cut at up to 8 drawn places (empty chunks included)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    chunks: list[str] = []
    last = 0
    for cut in cuts:
        chunks.append(text[last:cut])
        last = cut
    chunks.append(text[last:])
    return chunks
