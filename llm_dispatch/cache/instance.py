"""Whether a value is a :class:`~.streaming_cache.StreamingCache`, without importing it.

The cache's modules are imported when a cache is first made, not with the library: a call
that brings no cache never needs them. A value can be a ``StreamingCache`` only once that
module was imported, so a process that has not imported it holds none.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from .streaming_cache import StreamingCache

__all__ = ["is_streaming_cache"]


def is_streaming_cache(value: object) -> TypeGuard[StreamingCache]:
    """``isinstance(value, StreamingCache)``, importing nothing."""
    module = sys.modules.get("llm_dispatch.cache.streaming_cache")
    return module is not None and isinstance(value, module.StreamingCache)
