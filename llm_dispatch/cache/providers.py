"""The cache seen by the dispatcher as two providers.

- :class:`ReplayProvider` streams a stored answer, so a hit goes through the same loop and
  stages as a live stream (progress, callbacks, usage; embedding signs it afresh).
- :class:`SharedProvider` wraps a real provider: identical calls in flight at the same time
  share one provider stream (single-flight), and that stream is recorded once. When it
  completes, the recording goes to ``on_recorded``: the call's :class:`CachePolicy` stores
  it once the call itself completed (its tool calls and structured answer valid, every
  stage ended). With a Redis backend (and ``shared_flights``) the processes sharing it
  share the stream too (:mod:`.shared_flight`); only the leading process records it.
  Continuations of an interrupted answer are shared by the calls continuing the same text,
  and never recorded.

Each consumer of a shared stream keeps its own context, stages, deadlines and retries; only
the provider's HTTP stream is shared. It runs in a task of its own, so a consumer that leaves
does not stop it for the others; when the last one leaves it is closed.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import TYPE_CHECKING

from ..errors import ProviderError
from ..events import ProviderEvent
from ..providers.base import Provider, ProviderSettings
from ..request import Request
from .entry import CacheHit, replay_events
from .keys import CacheKey
from .shared_flight import shared_stream
from .streaming_cache import StreamingCache

if TYPE_CHECKING:
    from .recorder import StreamRecorder

__all__ = ["ReplayProvider", "SharedProvider"]


class ReplayProvider(Provider):
    """Streams one cache hit's stored chunks, then its usage and finish reason."""

    def __init__(self, hit: CacheHit) -> None:
        super().__init__(_replay_settings(hit.entry.provider))
        self.hit = hit

    def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        # The replay itself, not a generator passing it on: a layer costs per chunk.
        return replay_events(self.hit.entry, self.hit.timing)

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        return ProviderError(f"cache replay failed: {exc}", provider=self.name, model=model)


@functools.lru_cache(maxsize=64)
def _replay_settings(provider: str) -> ProviderSettings:
    """The (frozen) settings of a replay of ``provider``'s answers, validated once."""
    return ProviderSettings(name=provider, kind="cache")


class SharedProvider(Provider):
    """``inner`` with single-flight and recording, for the call whose cache key is ``key``."""

    def __init__(
        self,
        inner: Provider,
        cache: StreamingCache,
        key: CacheKey,
        *,
        on_recorded: Callable[[StreamRecorder, str, str], None],
        on_join: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(inner.settings)
        self.inner = inner
        self.cache = cache
        self.key = key
        self._on_recorded = on_recorded
        self._on_join = on_join

    async def prepare(self) -> None:
        await self.inner.prepare()

    async def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        # A continuation (assistant prefix last) is the tail of an interrupted answer, not an
        # answer to the request: never stored, and shared only by calls continuing the same
        # text (the prefix is part of its flight's key).
        prefix = _prefix_digest(request) if request.is_continuation else ""
        flight = (self.key.entry_id, self.name, model, prefix)
        # No await between this check and the stream joining or starting the flight.
        if self.cache.singleflight.in_flight(flight) and self._on_join is not None:
            self._on_join()
        async for event in self.cache.singleflight.stream(
            flight, lambda: self._produce(request, model, prefix)
        ):
            yield event

    def _produce(self, request: Request, model: str, prefix: str) -> AsyncIterator[ProviderEvent]:
        """This process's producer: the provider stream (recorded unless a continuation),
        led or followed across processes when the cache shares flights through Redis."""

        def live() -> AsyncGenerator[ProviderEvent, None]:
            return self.inner.stream(request, model) if prefix else self._record(request, model)

        board = self.cache.flight_board()
        if board is None:
            return live()
        parts = (self.key.entry_id, self.name, model, prefix)
        flight = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
        return shared_stream(
            board, flight, live, provider=self.name, model=model, on_follow=self._on_join
        )

    async def _record(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        """The shared producer: the real stream, recorded; a complete recording goes to
        ``on_recorded`` (the producer's own call decides whether it is stored)."""
        recorder = self.cache.recorder_for(self.key)
        completed = False
        try:
            async for event in self.inner.stream(request, model):
                recorder.add_event(event)
                yield event
            completed = True
        finally:
            if not completed:
                recorder.discard()
        self._on_recorded(recorder, self.name, model)

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        return self.inner.map_error(exc, model)

    def secrets(self) -> tuple[str, ...]:
        return self.inner.secrets()


def _prefix_digest(request: Request) -> str:
    """Names the partial answer a continuation request continues."""
    return hashlib.sha256(request.messages[-1].model_dump_json().encode()).hexdigest()[:32]
