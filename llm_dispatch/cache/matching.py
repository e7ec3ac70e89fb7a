"""Which stored entry answers a key (:func:`find`).

1. **Exact**: the key's partition and normalised prompt name one entry directly
   (``entry_id``): one dict lookup, or one Redis round trip.
2. **Similar**: otherwise, the candidates that the guard accepts are scored with the
   vectorizer (:func:`rank`), and the best one at or above the threshold is served. The
   candidates depend on the guard's level (:func:`.meaning_guard.guard_level`):

   - *words* (the default hashing vectorizer, and any vectorizer that does not declare it
     judges meaning): the prompt's *bucket*, the entries of the same partition with the
     same content words (:mod:`.guard`'s blocking key). Any prompt this level accepts is in
     that bucket, so nothing else needs scoring;
   - *meaning* (:mod:`.meaning_guard`: content words may differ): the bucket and the
     :data:`.nearest.NEAREST_K` nearest prompts of the partition scoring at least the
     threshold, from the vector index (:mod:`.nearest`).

:func:`decode_entry` parses every entry read back and checks it really answers the key at
the guard's level (with the prompts as written), so that even a hash collision cannot serve
a wrong answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from .entry import ENTRY_VERSION, CachedStream, CacheHit, ReplayTiming
from .guard import GuardVerdict, check_decisive, decisive_of_normalized
from .keys import CacheKey
from .meaning_guard import GuardLevel, as_written, check_meaning_decisive, guard_level
from .nearest import with_nearest
from .similarity import HashingVectorizer, Vectorizer, cosine, vectorizer_name
from .stats import CacheStats
from .store import EntryStore, IndexRow, now_ms

__all__ = ["decode_entry", "find", "rank", "scored"]

# Cosine of identical vectors can come out a hair below 1.0 in floating point.
_SCORE_EPSILON = 1e-9


def _accepts(normalized: str, key: CacheKey, level: GuardLevel) -> GuardVerdict:
    """The guard on a stored normal form (the meaning level's rules on the prompts as
    written are :func:`decode_entry`'s)."""
    stored = decisive_of_normalized(normalized)
    if level == "meaning":
        return check_meaning_decisive(stored, key.decisive)
    return check_decisive(stored, key.decisive)


def decode_entry(
    text: str, key: CacheKey, *, exact: bool, level: GuardLevel = "words"
) -> CachedStream | None:
    """The entry stored as ``text``, if it answers ``key`` (exactly, or as a similar hit
    accepted by the guard at ``level``)."""
    try:
        entry = CachedStream.model_validate_json(text)
    except ValidationError:
        return None
    if entry.version != ENTRY_VERSION or entry.partition != key.partition:
        return None
    if exact and entry.normalized_prompt != key.normalized:
        return None
    if exact:
        return entry
    stored = decisive_of_normalized(entry.normalized_prompt)
    if level == "meaning":
        written = as_written(entry.prompt), as_written(key.prompt)
        return entry if check_meaning_decisive(stored, key.decisive, *written) else None
    if entry.signature != key.signature or not check_decisive(stored, key.decisive):
        return None
    return entry


async def scored(
    key: CacheKey,
    rows: list[IndexRow],
    *,
    threshold: float,
    vectorizer: Vectorizer,
    known: Mapping[str, float] | None = None,
) -> list[tuple[float, IndexRow]]:
    """Rows scoring at least ``threshold`` against the key's prompt, best first (the guard
    not applied: :func:`rank` and :func:`find` apply it). ``known``: scores the vector
    index already computed, by entry id."""
    bound = threshold - _SCORE_EPSILON
    found: list[tuple[float, IndexRow]] = []
    if isinstance(vectorizer, HashingVectorizer):
        # The default vectorizer rebuilds vectors from the stored normal forms.
        query = vectorizer.from_normalized(key.normalized)
        for row in rows:
            score = cosine(query, vectorizer.from_normalized(row.normalized))
            if score >= bound:
                found.append((min(score, 1.0), row))
    else:
        name = vectorizer_name(vectorizer)
        usable = [r for r in rows if r.vector is not None and r.vectorizer == name]
        if not usable:
            return []
        known = known or {}
        query_vector: list[float] = []
        if any(row.entry_id not in known for row in usable):
            (query_vector,) = await vectorizer([key.prompt])
        for row in usable:
            assert row.vector is not None
            index_score = known.get(row.entry_id)
            value = cosine(query_vector, row.vector) if index_score is None else index_score
            if value >= bound:
                found.append((min(value, 1.0), row))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return found


async def rank(
    key: CacheKey,
    rows: list[IndexRow],
    *,
    threshold: float,
    vectorizer: Vectorizer,
    level: GuardLevel = "words",
) -> list[tuple[float, IndexRow]]:
    """Rows that pass the guard (at ``level``) and ``threshold``, best score first."""
    found = await scored(key, rows, threshold=threshold, vectorizer=vectorizer)
    return [(score, row) for score, row in found if _accepts(row.normalized, key, level)]


async def find(
    store: EntryStore,
    key: CacheKey,
    *,
    threshold: float,
    vectorizer: Vectorizer,
    timing: ReplayTiming,
    stats: CacheStats,
) -> CacheHit | None:
    """The entry of ``store`` that answers ``key``, exactly or as a similar hit; expired
    entries met on the way are pruned and counted in ``stats``."""
    now = now_ms()
    fetched = await store.fetch(key, now)
    if fetched.entry_json is not None:
        entry = decode_entry(fetched.entry_json, key, exact=True)
        if entry is not None:
            return CacheHit(entry, 1.0, True, key.entry_id, timing)
    level = guard_level(vectorizer)
    candidates: list[IndexRow] = fetched.candidates
    known: dict[str, float] = {}
    if level == "meaning":  # the vector index's nearest rows join the bucket's (.nearest)
        candidates, known = await with_nearest(
            store, key, candidates, vectorizer=vectorizer, threshold=threshold
        )
    if not candidates:
        return None
    stale = [c.entry_id for c in candidates if c.expired(now)]
    if stale:
        await store.prune(key, stale)
        stats.expirations += len(stale)
    live = [c for c in candidates if not c.expired(now)]
    # Best score first; the guard is applied on the way, so a hit reads as few stored
    # prompts as it can. The bucket only implies the same content words: the guard's
    # other rules are checked on each stored prompt (which also makes a signature collision
    # harmless).
    ranking = await scored(key, live, threshold=threshold, vectorizer=vectorizer, known=known)
    for score, row in ranking:
        if not _accepts(row.normalized, key, level):
            continue
        text = await store.get(key, row.entry_id, now)
        if text is None:
            await store.prune(key, [row.entry_id])
            stats.expirations += 1
            continue
        entry = decode_entry(text, key, exact=False, level=level)
        if entry is not None:
            return CacheHit(entry, score, False, row.entry_id, timing)
    return None
