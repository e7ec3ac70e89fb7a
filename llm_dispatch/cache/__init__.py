"""The similarity cache of complete provider streams.

Public entry point: :class:`StreamingCache`. See ``docs/cache.md`` for what it matches,
what the meaning-flip guard checks, and the backends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import lazy
from ..errors import SharedStreamCancelled, UncacheableRequest

if TYPE_CHECKING:
    from .entry import CachedStream, CacheHit, ReplayTiming, replay_events
    from .guard import GuardVerdict, check
    from .keys import CacheKey
    from .options import CacheOptions
    from .partition import partition_key
    from .recorder import StreamRecorder
    from .semantic import WordLlamaVectorizer
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
    "WordLlamaVectorizer",
    "check",
    "partition_key",
    "replay_events",
]


# Each public name's module, imported when the name is first read.
_SOURCES = {
    "CacheHit": ".entry",
    "CacheKey": ".keys",
    "CacheOptions": ".options",
    "CacheStats": ".stats",
    "CachedStream": ".entry",
    "EmbeddingsAPIVectorizer": ".similarity",
    "GuardVerdict": ".guard",
    "HashingVectorizer": ".similarity",
    "ReplayTiming": ".entry",
    "SentenceTransformerVectorizer": ".similarity",
    "SingleFlight": ".singleflight",
    "StreamRecorder": ".recorder",
    "StreamingCache": ".streaming_cache",
    "Vectorizer": ".similarity",
    "WordLlamaVectorizer": ".semantic",
    "check": ".guard",
    "partition_key": ".partition",
    "replay_events": ".entry",
}


def __getattr__(name: str) -> Any:
    return lazy.attribute(__name__, _SOURCES, name)


def __dir__() -> list[str]:
    return lazy.names(__name__, __all__)
