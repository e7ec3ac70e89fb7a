"""The index row a store writes beside an entry (:func:`index_row`)."""

from __future__ import annotations

from .keys import CacheKey
from .similarity import Vectorizer, decode_vector, encode_vector
from .store import IndexRow

__all__ = ["index_row"]


async def index_row(
    key: CacheKey,
    *,
    vectorizer: Vectorizer,
    vectorizer_name: str,
    stores_vectors: bool,
    ttl: float | None,
    now_ms: int,
) -> tuple[IndexRow, str | None]:
    """The row of the entry of ``key``, and its vector encoded for the store (None when
    the vectorizer rebuilds vectors from stored prompts: the default one)."""
    row = IndexRow(
        entry_id=key.entry_id,
        normalized=key.normalized,
        vectorizer=vectorizer_name,
        expires_at_ms=now_ms + int(ttl * 1000) if ttl else None,
        route=key.route,
        scope=key.scope,
    )
    if not stores_vectors:
        return row, None
    (vector,) = await vectorizer([key.prompt])
    encoded = encode_vector(vector)
    row.vector = decode_vector(encoded)
    return row, encoded
