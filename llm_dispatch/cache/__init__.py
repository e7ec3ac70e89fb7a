"""The similarity cache of complete provider streams.

Public entry point: :class:`StreamingCache`. See ``docs/cache.md`` for what it matches,
what the meaning-flip guard checks, and the backends.
"""

from __future__ import annotations

from ..errors import SharedStreamCancelled, UncacheableRequest
from .entry import CachedStream, CacheHit, ReplayTiming, replay_events
from .guard import GuardVerdict, check
from .keys import CacheKey
from .options import CacheOptions
from .partition import partition_key
from .recorder import StreamRecorder
from .similarity import (
    EmbeddingsAPIVectorizer,
    HashingVectorizer,
    SentenceTransformerVectorizer,
    Vectorizer,
)
from .singleflight import SingleFlight
from .stats import CacheStats
from .streaming_cache import StreamingCache

__all__ = [
    "CacheHit",
    "CacheKey",
    "CacheOptions",
    "CacheStats",
    "CachedStream",
    "EmbeddingsAPIVectorizer",
    "GuardVerdict",
    "HashingVectorizer",
    "ReplayTiming",
    "SentenceTransformerVectorizer",
    "SharedStreamCancelled",
    "SingleFlight",
    "StreamRecorder",
    "StreamingCache",
    "UncacheableRequest",
    "Vectorizer",
    "check",
    "partition_key",
    "replay_events",
]
