"""What one call asks of its cache, in one object.

The dispatcher asks a :class:`CachePolicy` three things: *is there a stored answer?*
(:meth:`CachePolicy.stored_answer`, replayed through the same loop and stages as a live
stream), *wrap this provider* (:meth:`CachePolicy.wrap`: identical calls in flight share
one provider stream, which is recorded), and, once the call completed, *keep the answer*
(:meth:`CachePolicy.completed`: the recording is stored, in the background). An answer the
call did not accept (tool calls or a structured answer that do not fit, a stage that
raised at the end, a consumer that left) is never stored. The call's key is computed once,
here, and serves the lookup, the shared flight and the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import UncacheableRequest
from ..events import CacheHitEvent
from ..providers.base import ModelPrice, Provider
from ..request import Request
from ..routing.target import Target
from .entry import CacheHit
from .keys import CacheKey
from .providers import ReplayProvider, SharedProvider
from .recorder import StreamRecorder
from .streaming_cache import StreamingCache

__all__ = ["CachePolicy", "StoredAnswer", "StreamingCache"]

# What a replayed answer costs.
_FREE = ModelPrice(input=0.0, output=0.0)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """A hit, as the dispatcher plans it: the one target, and the provider that replays it."""

    hit: CacheHit
    target: Target
    provider: Provider

    @property
    def event(self) -> CacheHitEvent:
        entry = self.hit.entry
        return CacheHitEvent(self.hit.similarity, self.hit.exact, entry.provider, entry.model)


class CachePolicy:
    """One call's use of ``cache``: its key (route and scope included) and what it asks."""

    def __init__(
        self, cache: StreamingCache, request: Request, *, route: str, scope: str | None
    ) -> None:
        self.cache = cache
        self._uncacheable: str | None = None
        # The provider stream this call started and that completed: (recording, provider,
        # model), until the call itself completed.
        self._recorded: tuple[StreamRecorder, str, str] | None = None
        self.key: CacheKey | None
        try:
            self.key = cache.key(request, route=route, scope=scope)
        except UncacheableRequest as exc:
            self.key, self._uncacheable = None, str(exc)

    @classmethod
    def for_call(
        cls,
        cache: StreamingCache | None,
        request: Request,
        providers: Sequence[str] | None,
        model: str | None,
        scope: str | None,
    ) -> CachePolicy | None:
        """A call's use of ``cache`` (None without one): keyed on what would answer it, the
        route narrowed by the call's ``providers`` / ``model`` (the task type is part of
        the request itself)."""
        if cache is None:
            return None
        route = f"providers={','.join(providers or ())};model={model or ''}"
        return cls(cache, request, route=route, scope=scope)

    async def stored_answer(self, timeout: float | None) -> StoredAnswer | None:
        """The stored answer to replay, or None; bounded by ``timeout`` (and the cache's
        ``backend_timeout``), never raising for backend trouble."""
        if not self.cache.options.enabled:
            return None
        if self.key is None:
            self.cache.count_uncacheable(self._uncacheable or "")
            return None
        hit = await self.cache.lookup_key(self.key, timeout=timeout)
        if hit is None:
            return None
        entry = hit.entry
        return StoredAnswer(
            hit, Target(entry.provider, entry.model, price=_FREE), ReplayProvider(hit)
        )

    def wrap(self, provider: Provider, on_join: Callable[[], None]) -> Provider:
        """``provider`` shared with identical calls in flight and recorded for the cache;
        ``on_join`` is called when this call joins a stream another one started (it then
        spends nothing)."""
        if self.key is None:
            return provider
        return SharedProvider(
            provider, self.cache, self.key, on_recorded=self._keep, on_join=on_join
        )

    def _keep(self, recorder: StreamRecorder, provider: str, model: str) -> None:
        if self._recorded is not None:
            self._recorded[0].discard()
        self._recorded = (recorder, provider, model)

    def completed(self) -> None:
        """The call completed: store the answer its provider stream recorded, if any (in
        the background: see :meth:`StreamingCache.store_later`)."""
        recorded, self._recorded = self._recorded, None
        if recorded is not None:
            recorder, provider, model = recorded
            self.cache.store_later(recorder.commit(provider=provider, model=model))
