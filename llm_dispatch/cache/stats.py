"""Counters of what the cache did, per :class:`StreamingCache` instance (per process)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

__all__ = ["CacheStats"]


@dataclass(slots=True)
class CacheStats:
    """How lookups and stores went.

    - ``hits``: exact hits (same normalised prompt); ``similar_hits``: guard-approved hits
      above the threshold; ``misses``: lookups that found nothing;
    - ``stores``: entries written; ``evictions``: entries removed to respect
      ``max_cache_size`` (by this process); ``expirations``: stale index rows pruned;
    - ``bypasses``: calls that skipped the cache (``cache=False``, uncacheable requests);
    - ``errors``: backend failures (the call then went live; nothing was raised).
    """

    hits: int = 0
    similar_hits: int = 0
    misses: int = 0
    stores: int = 0
    evictions: int = 0
    expirations: int = 0
    bypasses: int = 0
    errors: int = 0

    @property
    def lookups(self) -> int:
        return self.hits + self.similar_hits + self.misses

    @property
    def hit_rate(self) -> float:
        """Share of lookups answered from the cache (exact or similar), 0.0 when none."""
        return (self.hits + self.similar_hits) / self.lookups if self.lookups else 0.0

    def snapshot(self) -> CacheStats:
        """A copy that later cache activity does not change."""
        return replace(self)

    def as_dict(self) -> dict[str, int | float]:
        return {**asdict(self), "lookups": self.lookups, "hit_rate": self.hit_rate}
