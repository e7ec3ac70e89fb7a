"""Rate and concurrency limits: a policy around sending each request of an attempt.

:class:`Limiter` applies the providers' ``limits`` (see :mod:`llm_dispatch.settings.limits`)
through a store: this process's (:class:`MemoryLimitStore`) or one shared through Redis
(:class:`RedisLimitStore`). :func:`limited` is the policy: each try of an attempt is
admitted by every scope of its target before its request is sent (waiting, or raising
:class:`~llm_dispatch.errors.LimitReached` to fall back, as the scope's ``on_limit``
says), and a provider's ``rate_limit`` answer with ``Retry-After`` holds the target for
every process sharing the store. A concurrency slot is held until the stream ends
(completed, failed or cancelled) and given back exactly once.

A shared store never holds a request up for long: each round trip is bounded by
``store_timeout`` and by what is left of the call's ``total``. When the store fails, this
process's own counts stand in for ``store_retry`` seconds and ``limits.store_unavailable``
is logged (at most once a minute).
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ..errors import ErrorKind, ProviderError
from ..limit_errors import LimitReached
from ..log import Throttle, get_logger
from ..providers.function import FUNCTION_PROVIDER
from ..redaction import redact
from ..settings.limits import LimitRule, LimitSettings
from ..tokens import estimate_prompt_tokens
from .limit_redis import RedisLimitStore
from .limit_store import LimitStore, MemoryLimitStore, Refusal, Scope

if TYPE_CHECKING:
    from ..attempt import Attempt, Ending, Open, Opened
    from ..settings.models import DispatchConfig

__all__ = [
    "Lease",
    "LimitStore",
    "Limiter",
    "MemoryLimitStore",
    "RedisLimitStore",
    "Refusal",
    "Scope",
    "limited",
    "store_from_settings",
]

log = get_logger(__name__)

T = TypeVar("T")

#: Seconds between two looks at a full concurrency limit (spread by up to a fifth).
POLL = 0.05


def store_from_settings(settings: LimitSettings) -> LimitStore:
    """The store ``settings.store`` names: ``memory`` or a Redis URL."""
    if settings.store == "memory":
        return MemoryLimitStore()
    return RedisLimitStore(settings.store.get_secret_value(), settings.namespace)


class Lease:
    """One admitted request: its ticket in the scopes, and the store that holds it."""

    __slots__ = ("_ended", "limiter", "scopes", "store", "ticket", "tokens")

    def __init__(
        self,
        limiter: Limiter,
        store: LimitStore,
        scopes: tuple[Scope, ...],
        tokens: int,
        ticket: str,
    ) -> None:
        self.limiter, self.store, self.scopes = limiter, store, scopes
        self.ticket = ticket
        self.tokens = tokens
        self._ended = False

    @property
    def holds_slot(self) -> bool:
        return any(scope.concurrent is not None for scope in self.scopes)

    async def end(self, tokens: int | None) -> None:
        """Give back the slot and settle the tokens, once; later calls do nothing."""
        if self._ended:
            return
        self._ended = True
        await self.limiter.ended(self, tokens)


class Limiter:
    """The limits of every provider of ``config``, kept in the store ``defaults.limits``
    names (or ``store``)."""

    def __init__(self, config: DispatchConfig, store: LimitStore | None = None) -> None:
        self.settings = config.defaults.limits
        self.store = store if store is not None else store_from_settings(self.settings)
        self._rules = {name: entry.limits for name, entry in config.providers.items()}
        self._scopes: dict[tuple[str, str], tuple[Scope, ...]] = {}
        # What stands in for a shared store while it is unreachable.
        self._local = None if isinstance(self.store, MemoryLimitStore) else MemoryLimitStore()
        self._store_down_until = -math.inf
        self._throttle = Throttle()
        # Slots in a store whose leases expire, renewed while their streams run.
        self._renewing: dict[str, Lease] = {}
        self._renewer: asyncio.Task[None] | None = None

    @property
    def using_local_state(self) -> bool:
        """True while the shared store is skipped because it failed."""
        return self._local is not None and time.monotonic() < self._store_down_until

    def scopes_for(self, provider: str, model: str) -> tuple[Scope, ...]:
        """The scopes a request to ``provider/model`` is checked against: the provider's
        when it limits anything, then always the target's (holds land there)."""
        key = (provider, model)
        scopes = self._scopes.get(key)
        if scopes is None:
            scopes = self._scopes[key] = self._build_scopes(provider, model)
        return scopes

    def _build_scopes(self, provider: str, model: str) -> tuple[Scope, ...]:
        limits = self._rules.get(provider)
        per_window = self.settings.window / 60.0
        default = (limits.on_limit if limits is not None else None) or "wait"

        def scope(key: str, rule: LimitRule | None) -> Scope:
            if rule is None:
                return Scope(key, provider, on_limit=default)
            return Scope(
                key,
                provider,
                requests=_scaled(rule.requests_per_minute, per_window),
                tokens=_scaled(rule.tokens_per_minute, per_window),
                concurrent=rule.max_concurrent,
                on_limit=rule.on_limit or default,
            )

        target = scope(f"{provider}/{model}", limits.models.get(model) if limits else None)
        if limits is not None and limits.limits_anything:
            return (scope(provider, limits), target)
        return (target,)

    # -- admitting a request --------------------------------------------------------------

    async def admit(self, attempt: Attempt, scopes: tuple[Scope, ...], tokens: int) -> Lease:
        """A lease for one try of ``attempt``, once every scope allows it (see the module
        docstring); :class:`LimitReached` when it may not wait for one."""
        run, settings = attempt.run, self.settings
        while True:
            ticket = uuid.uuid4().hex
            store = self._store_now()

            def acquire(
                store: LimitStore = store, ticket: str = ticket
            ) -> Awaitable[Refusal | None]:
                return store.acquire(scopes, ticket, tokens, settings.window, settings.lease)

            refusal = await self._bounded(store, acquire, "acquire", run.left())
            if refusal is _FAILED:  # this process's counts decide instead, at once
                assert self._local is not None
                store = self._local
                refusal = await acquire(store)
            if refusal is None:
                lease = Lease(self, store, scopes, tokens, ticket)
                if lease.holds_slot and self._expires(store):
                    self._renew(lease)
                return lease
            assert isinstance(refusal, Refusal)
            wait = self._wait_for(refusal)
            left = run.deadlines.remaining()
            if refusal.scope.on_limit == "fallback" or wait is None or wait >= left:
                raise self._refused(attempt, refusal, wait, left)
            await asyncio.sleep(wait)

    @staticmethod
    def _wait_for(refusal: Refusal) -> float | None:
        """Seconds to sleep before asking again; None when no wait can help."""
        if refusal.retry_in is None:
            return POLL * random.uniform(1.0, 1.2)
        if math.isinf(refusal.retry_in):
            return None
        return max(refusal.retry_in, 0.001) + random.uniform(0.0, 0.005)

    @staticmethod
    def _refused(
        attempt: Attempt, refusal: Refusal, wait: float | None, left: float
    ) -> LimitReached:
        target, scope = attempt.target, refusal.scope
        if wait is None:
            why = "the request alone is more than it allows per window"
        elif refusal.retry_in is None:
            why = "no slot is free"
        elif refusal.limit == "retry_after":
            why = f"the provider's Retry-After holds it for {refusal.retry_in:.2f}s more"
        else:
            why = f"it allows the request in {refusal.retry_in:.2f}s"
        if wait is not None and scope.on_limit == "wait":
            why += f", after the call's total deadline ({max(left, 0.0):.2f}s left)"
        error = LimitReached(
            f"{refusal.limit} of {scope.key} reached: {why}",
            provider=target.provider,
            model=target.model,
            limit=refusal.limit,
            scope=scope.key,
            retry_in=refusal.retry_in,
            fallback=wait is None or scope.on_limit == "fallback",
        )
        attempt.charge(kind=error.kind.value, message=error.message)  # nothing sent
        return error

    async def hold(self, scope: Scope, seconds: float, timeout: float | None) -> None:
        """Refuse requests to ``scope`` for ``seconds`` (a provider's ``Retry-After``)."""
        store = self._store_now()
        if (
            await self._bounded(store, lambda: store.hold(scope, seconds), "hold", timeout)
            is _FAILED
        ):
            assert self._local is not None
            await self._local.hold(scope, seconds)

    async def ended(self, lease: Lease, tokens: int | None) -> None:
        """``lease``'s stream ended: its slot back, its tokens settled (see :class:`Lease`).

        Bounded by ``store_timeout`` only, not by the call's ``total``: it runs once the
        attempt is over, and a slot must be given back even when the deadline fired."""
        self._renewing.pop(lease.ticket, None)
        if not self._renewing and self._renewer is not None:
            # No slot left to renew: the renewer would only sleep on until it noticed.
            self._renewer.cancel()
            self._renewer = None
        store, scopes, ticket = lease.store, lease.scopes, lease.ticket
        if lease.holds_slot:
            await self._bounded(store, lambda: store.release(scopes, ticket), "release", None)
        counts_tokens = any(scope.counts_tokens for scope in scopes)
        if counts_tokens and tokens is not None and tokens != lease.tokens:
            settle = lambda: store.settle(scopes, ticket, tokens)  # noqa: E731
            await self._bounded(store, settle, "settle", None)

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        self._renewing.clear()
        await self.store.aclose()

    # -- the shared store and its stand-in --------------------------------------------------

    def _store_now(self) -> LimitStore:
        if self._local is not None and time.monotonic() < self._store_down_until:
            return self._local
        return self.store

    @staticmethod
    def _expires(store: LimitStore) -> bool:
        """Whether ``store``'s slots are leases that must be renewed."""
        return not isinstance(store, MemoryLimitStore)

    async def _bounded(
        self, store: LimitStore, work: Callable[[], Awaitable[T]], op: str, timeout: float | None
    ) -> T | object:
        """``work()`` on ``store``, bounded when it is the shared one; :data:`_FAILED` when it
        failed (the local counts stand in from now on) or no time is left for it."""
        if store is self._local or self._local is None:
            return await work()
        bound = self.settings.store_timeout
        if timeout is not None:
            bound = min(bound, timeout)
        if bound <= 0:
            return _FAILED
        try:
            async with asyncio.timeout(bound):
                return await work()
        except Exception as exc:
            self._store_down_until = time.monotonic() + self.settings.store_retry
            # Bookkeeping must not take requests down with it, nor hold them up.
            self._throttle(
                log.warning,
                "store",
                "limits.store_unavailable",
                op=op,
                error=type(exc).__name__,
                detail=redact(str(exc)) or f"no reply within {bound:g}s",
                using="process counts",
                retry_in_s=self.settings.store_retry,
            )
            return _FAILED

    def _renew(self, lease: Lease) -> None:
        self._renewing[lease.ticket] = lease
        loop = asyncio.get_running_loop()
        if self._renewer is None or self._renewer.done() or self._renewer.get_loop() is not loop:
            self._renewer = loop.create_task(self._renew_loop())

    async def _renew_loop(self) -> None:
        """Renew the slots of running streams every third of a lease, while there are any."""
        every = self.settings.lease / 3
        while self._renewing:
            await asyncio.sleep(every)
            leases = [(lease.scopes, lease.ticket) for lease in self._renewing.values()]
            if not leases:
                return
            renew = functools.partial(self.store.renew, leases, self.settings.lease)
            await self._bounded(self.store, renew, "renew", None)


_FAILED = object()


def _scaled(per_minute: int | None, per_window: float) -> float | None:
    return None if per_minute is None else per_minute * per_window


class _Release:
    """Ends an admitted attempt's lease when the attempt ends, with the tokens it was
    charged."""

    __slots__ = ("lease", "since")

    def __init__(self, lease: Lease, since: int) -> None:
        self.lease = lease
        self.since = since

    def try_started(self, attempt: Attempt) -> None:
        return None  # added once the attempt's stream opened: its tries are over

    async def try_failed(self, attempt: Attempt, error: ProviderError) -> None:
        return None

    async def ended(self, attempt: Attempt, ending: Ending) -> None:
        await self.lease.end(_charged(attempt, self.since))


def _charged(attempt: Attempt, since: int) -> int | None:
    """The tokens the ledger charged the try admitted when the attempt had ``since``
    records: the last record it added since (None: it recorded nothing)."""
    records = attempt.records
    return records[-1].usage.total_tokens if len(records) > since else None


def _estimate(attempt: Attempt) -> int:
    request = attempt.request
    counter = attempt.run.ctx.ledger.counter or "character"
    return estimate_prompt_tokens(request, counter) + (request.max_tokens or 0)


def limited(limiter: Limiter, open_once: Open) -> Open:
    """``open_once`` (one try) admitted by ``limiter`` first; a ``rate_limit`` failure with
    ``Retry-After`` holds the target. The decorated body and cache replays are not limited."""

    async def open_limited(attempt: Attempt) -> Opened:
        target = attempt.target
        if target.kind == FUNCTION_PROVIDER or attempt.run.ctx.cached:
            return await open_once(attempt)
        scopes = limiter.scopes_for(target.provider, target.model)
        tokens = _estimate(attempt) if any(s.counts_tokens for s in scopes) else 0
        lease = await limiter.admit(attempt, scopes, tokens)
        since = len(attempt.records)
        try:
            opened = await open_once(attempt)
        except ProviderError as exc:
            if exc.kind is ErrorKind.RATE_LIMIT and exc.retry_after:
                seconds = min(float(exc.retry_after), attempt.run.policy.retry.retry_after_cap)
                await limiter.hold(scopes[-1], seconds, attempt.run.left())
            await lease.end(_charged(attempt, since))
            raise
        except BaseException:
            # Cancelled (a hedge's loser, the consumer gone) or the total deadline: the
            # ledger charged the try its prompt, which it counts instead of the estimate.
            await lease.end(_charged(attempt, since))
            raise
        attempt.observers.append(_Release(lease, since))
        return opened

    return open_limited
