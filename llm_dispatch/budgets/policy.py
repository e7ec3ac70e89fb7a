"""The budgets of one dispatcher: which caps a call is under, its estimate, and the store.

:class:`Budgets` turns the configuration's ``budgets:`` into counters for an attempt (its
target's provider, the call's route, the call's scope; the day and month windows of each
budget's time zone at the clock's time), estimates what the attempt may cost, reserves
that estimate on every counter at once (:meth:`Budgets.reserve`, which raises
:class:`~llm_dispatch.budget_errors.BudgetExceeded` when a cap refuses) and settles the
real cost later (:meth:`Budgets.settle`).

A shared store never holds a call up for long: each round trip is bounded by
``store_timeout`` (and a reservation by what is left of the call's ``total``). When the
store fails or is slow, this process counts on its own for ``store_retry`` seconds, then
tries the store again, and logs ``budget.store_unavailable`` at most once a minute. A
settlement the store could not take is kept (up to :data:`MAX_UNSENT`) and sent after the
next round trip that succeeds.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ..budget_errors import BudgetExceeded
from ..errors import ConfigError
from ..log import Throttle, get_logger
from ..redaction import redact
from ..settings.budgets import ANY_SCOPE, BudgetConfig, BudgetSettings
from ..tokens import estimate_prompt_tokens
from .store import BudgetStore, Counter, MemoryBudgetStore, Refusal, Tally, nano
from .windows import Period, window_at

if TYPE_CHECKING:
    from ..attempt import Attempt
    from ..settings.models import DispatchConfig

__all__ = ["BUDGET_SCOPE", "MAX_UNSENT", "BudgetStatus", "Budgets", "Reservation"]

log = get_logger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

#: ``StreamContext.values`` key: the scope the call named (``budget_scope=``), if any.
BUDGET_SCOPE = "budget.scope"
#: Settlements kept while the shared store is unreachable; older ones are dropped (their
#: holds lapse after ``reservation_ttl``).
MAX_UNSENT = 10_000
# How long a counter outlives its window: late settlements of calls that started in it.
_KEEP_AFTER_WINDOW = 86_400.0


@dataclass(frozen=True, slots=True)
class _Line:
    """One counter of one attempt, and the budget and window it stands for."""

    counter: Counter
    budget: BudgetConfig
    period: Period
    window: str


@dataclass(frozen=True, slots=True)
class Reservation:
    """An attempt's estimate, held on its counters in ``store`` until settled."""

    token: str
    counters: tuple[Counter, ...]
    estimate_usd: float
    store: BudgetStore


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """One budget's current window: its cap, settled spend and live reservations (USD)."""

    budget: str
    period: Period
    window: str
    cap_usd: float
    spent_usd: float
    reserved_usd: float


def store_from_settings(settings: BudgetSettings) -> BudgetStore:
    """The store ``settings.store`` names: ``memory`` or a Redis URL."""
    if settings.store == "memory":
        return MemoryBudgetStore()
    from .redis_store import RedisBudgetStore

    return RedisBudgetStore(settings.store.get_secret_value(), settings.namespace)


class Budgets:
    """The spend caps of ``config`` (see the module docstring).

    ``store`` defaults to the one ``defaults.budgets.store`` names (nothing is connected
    without budgets); ``clock`` (epoch seconds, default ``time.time``) places calls in
    their day and month.
    """

    def __init__(
        self,
        config: DispatchConfig,
        store: BudgetStore | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.entries: tuple[BudgetConfig, ...] = tuple(config.budgets)
        self.settings = config.defaults.budgets
        self._config = config
        if store is None:
            store = store_from_settings(self.settings) if self.entries else MemoryBudgetStore()
        self.store = store
        self.clock: Clock = clock or time.time
        # What stands in for a shared store while it is unreachable.
        self._local = None if isinstance(store, MemoryBudgetStore) else MemoryBudgetStore()
        self._store_down_until = -math.inf
        #: Round trips to the shared store that failed or timed out, since this started.
        self.store_failures = 0
        self._throttle = Throttle()
        self._unsent: list[tuple[tuple[Counter, ...], str, int]] = []

    @property
    def using_local_state(self) -> bool:
        """True while the shared store is skipped because it failed."""
        return self._local is not None and time.monotonic() < self._store_down_until

    # -- which caps ----------------------------------------------------------------------

    def _lines(
        self, provider: str, route: str | None, scope: str | None, now: float
    ) -> list[_Line]:
        """The counters of the caps on ``provider``, ``route`` and ``scope`` at ``now``."""
        found: dict[str, _Line] = {}
        for budget in self.entries:
            level, selector = budget.level, budget.selector
            if level == "provider" and selector == provider:
                name = f"provider={provider}"
            elif level == "route" and selector == route:
                name = f"route={route}"
            elif level == "scope" and scope is not None and selector in (scope, ANY_SCOPE):
                name = f"scope={scope}"
            else:
                continue
            zone = budget.timezone or self.settings.timezone
            for period, cap in budget.caps():
                window = window_at(period, now, zone)
                key = f"{name}:{period}:{zone}:{window.id}"
                expires = window.ends_at + self.settings.reservation_ttl + _KEEP_AFTER_WINDOW
                line = _Line(Counter(key, round(cap * 1e9), expires), budget, period, window.id)
                # Two budgets on the same calls and window count the same spend: one
                # counter, under the smaller cap.
                if key not in found or line.counter.cap < found[key].counter.cap:
                    found[key] = line
        return list(found.values())

    def route_of(self, task_type: str) -> str | None:
        found = self._config.route_for(task_type)
        return found[0] if found is not None else None

    # -- reserve and settle --------------------------------------------------------------

    async def reserve(self, attempt: Attempt) -> Reservation | None:
        """Hold ``attempt``'s estimate on every cap it is under; None when it is under
        none. Raises :class:`BudgetExceeded` (nothing held) when a cap refuses, and
        :class:`ConfigError` when a cap covers a model without a price."""
        ctx, target = attempt.run.ctx, attempt.target
        scope = ctx.values.get(BUDGET_SCOPE)
        now = self.clock()
        lines = self._lines(target.provider, self.route_of(ctx.task_type), scope, now)
        if not lines:
            return None
        if target.price is None:
            raise ConfigError(
                f"{target.key} has no price, so the budget {lines[0].budget.label!r} cannot "
                "be checked: nothing was sent",
                path=f'providers.{target.provider}.prices["{target.model}"]',
            )
        prompt = estimate_prompt_tokens(attempt.request, ctx.ledger.counter or "character")
        output = attempt.request.max_tokens or self.settings.default_output_tokens
        estimate = (prompt * target.price.input + output * target.price.output) / 1e6
        counters = tuple(line.counter for line in lines)
        token = uuid.uuid4().hex
        hold_until = now + self.settings.reservation_ttl
        amount = nano(estimate)

        async def reserve(store: BudgetStore) -> object:
            return await store.reserve(counters, token, amount, now, hold_until)

        store, refusal = await self._run(reserve, "reserve", attempt.run.left())
        if refusal is None:
            return Reservation(token, counters, estimate, store)
        assert isinstance(refusal, Refusal)
        line = lines[refusal.index]
        error = BudgetExceeded(
            provider=target.provider,
            model=target.model,
            budget=line.budget.label,
            level=line.budget.level,
            period=line.period,
            window=line.window,
            cap_usd=line.counter.cap / 1e9,
            spent_usd=refusal.spent / 1e9,
            reserved_usd=refusal.reserved / 1e9,
            estimate_usd=estimate,
        )
        error.attempts = ctx.ledger.entries
        log.info(
            "budget.refused",
            budget=error.budget,
            period=error.period,
            window=error.window,
            target=target.key,
            cap_usd=error.cap_usd,
            spent_usd=error.spent_usd,
            reserved_usd=error.reserved_usd,
            estimate_usd=estimate,
        )
        raise error

    async def settle(self, reservation: Reservation, cost_usd: float) -> None:
        """Replace ``reservation``'s hold by ``cost_usd``, in the store that holds it."""
        token, counters, cost = reservation.token, reservation.counters, nano(cost_usd)
        if reservation.store is not self.store:
            await reservation.store.settle(counters, token, cost)
            return

        async def settle(store: BudgetStore) -> object:
            await store.settle(counters, token, cost)
            return None

        used, _ = await self._run(settle, "settle", None, local_ok=False)
        if used is not self.store:
            self._unsent.append((counters, token, cost))
            del self._unsent[:-MAX_UNSENT]

    async def status(self, *, scope: str | None = None) -> list[BudgetStatus]:
        """Every budget's current windows (those of ``scope`` included, for a scope's
        budgets), as the store sees them now (this process's counters while a shared
        store is down)."""
        now = self.clock()
        lines = [
            line
            for provider in sorted({b.selector for b in self.entries if b.level == "provider"})
            for line in self._lines(provider, None, None, now)
        ]
        for route in sorted({b.selector for b in self.entries if b.level == "route"}):
            lines += self._lines("", route, None, now)
        scopes = {b.selector for b in self.entries if b.level == "scope"} - {ANY_SCOPE}
        for named in sorted(scopes | ({scope} if scope is not None else set())):
            lines += self._lines("", None, named, now)
        counters = [line.counter for line in lines]

        async def read(store: BudgetStore) -> object:
            return await store.read(counters, now)

        _, tallies = await self._run(read, "read", None)
        assert isinstance(tallies, list)
        return [_status(line, tally) for line, tally in zip(lines, tallies, strict=True)]

    async def aclose(self) -> None:
        """Send the settlements still kept for the shared store (within ``store_timeout``),
        then release its connections."""
        if self._unsent:
            await self._send_unsent()
        await self.store.aclose()

    # -- the shared store, or this process's counters --------------------------------------

    async def _run(
        self,
        op: Callable[[BudgetStore], Awaitable[T]],
        name: str,
        left: float | None,
        *,
        local_ok: bool = True,
    ) -> tuple[BudgetStore, T | None]:
        """``op`` on the shared store, within the bounds; else on this process's counters
        (or, with ``local_ok`` false, nowhere: the store returned is then the local one)."""
        if self._local is None:
            return self.store, await op(self.store)
        bound = (
            self.settings.store_timeout if left is None else min(self.settings.store_timeout, left)
        )
        if bound > 0 and time.monotonic() >= self._store_down_until:
            try:
                async with asyncio.timeout(bound):
                    result = await op(self.store)
            except Exception as exc:
                self.store_failures += 1
                self._store_down_until = time.monotonic() + self.settings.store_retry
                self._throttle(
                    log.warning,
                    "store",
                    "budget.store_unavailable",
                    op=name,
                    error=type(exc).__name__,
                    detail=redact(str(exc)) or f"no reply within {bound:g}s",
                    using="process counters",
                    retry_in_s=self.settings.store_retry,
                )
            else:
                if self._unsent:
                    await self._send_unsent()
                return self.store, result
        if not local_ok:
            return self._local, None
        return self._local, await op(self._local)

    async def _send_unsent(self) -> None:
        """Settlements that could not reach the shared store earlier, oldest first, while
        it answers within ``store_timeout``; what is left waits for the next success."""
        try:
            async with asyncio.timeout(self.settings.store_timeout):
                while self._unsent:
                    counters, token, cost = self._unsent[0]
                    await self.store.settle(counters, token, cost)
                    self._unsent.pop(0)
        except Exception:
            return


def _status(line: _Line, tally: Tally) -> BudgetStatus:
    return BudgetStatus(
        budget=line.budget.label,
        period=line.period,
        window=line.window,
        cap_usd=line.counter.cap / 1e9,
        spent_usd=tally.spent / 1e9,
        reserved_usd=tally.reserved / 1e9,
    )
