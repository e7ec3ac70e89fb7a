"""The policy around opening an attempt: reserve its estimate before anything is sent, and
settle the real cost once, however the attempt ends.

:func:`guarded_by_budgets` wraps the circuit breaker's ``Open`` (so a refused target is
never counted as a failure of its circuit). Before the target is opened, the attempt's
estimate is held on every cap it is under; a cap that refuses raises
:class:`~llm_dispatch.budget_errors.BudgetExceeded`, recorded in the ledger as
``budget_exceeded`` with nothing sent. The hold is settled when the attempt ends
(completed, failed before text, interrupted, or left by the consumer), at what the ledger
charged this attempt: every try, the failed ones that billed tokens included.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..budget_errors import BudgetExceeded
from ..errors import ProviderError
from ..providers.function import FUNCTION_PROVIDER
from ..records import AttemptRecord
from .policy import Budgets, Reservation

if TYPE_CHECKING:
    from ..attempt import Attempt, Ending, Open, Opened

__all__ = ["guarded_by_budgets", "settled_cost"]


def settled_cost(entries: Sequence[AttemptRecord], estimate_usd: float) -> float:
    """What an attempt's ledger ``entries`` cost, in USD. A try the provider got whose cost
    is unknown, or that was charged no tokens (the ledger counted none: estimates off),
    counts at the estimate that was held, so the cap errs on the side of counting."""
    total = 0.0
    for entry in entries:
        if not entry.charged:
            continue
        if entry.cost_usd is None or entry.usage.total_tokens == 0:
            total += estimate_usd
        else:
            total += entry.cost_usd
    return total


class _Settlement:
    """Settles one attempt's reservation when the attempt ends (once)."""

    __slots__ = ("budgets", "reservation", "settled")

    def __init__(self, budgets: Budgets, reservation: Reservation) -> None:
        self.budgets = budgets
        self.reservation = reservation
        self.settled = False

    def try_started(self, attempt: Attempt) -> None:
        return None  # one reservation covers every try of the attempt

    async def try_failed(self, attempt: Attempt, error: ProviderError) -> None:
        return None  # the ledger keeps what each try billed; the end settles them all

    async def ended(self, attempt: Attempt, ending: Ending) -> None:
        if self.settled:
            return
        self.settled = True
        # An attempt that joined another call's identical stream spent nothing. Otherwise
        # its own records: the stream's ledger also holds those of a hedge racing it,
        # which that racer's own reservation settles.
        estimate = self.reservation.estimate_usd
        cost = 0.0 if attempt.free else settled_cost(attempt.records, estimate)
        await self.budgets.settle(self.reservation, cost)


def guarded_by_budgets(budgets: Budgets, open_target: Open) -> Open:
    """``open_target`` behind the caps of ``budgets`` (itself when there are none). The
    decorated body and cache replays spend nothing and are never held."""
    if not budgets.entries:
        return open_target

    async def open_budgeted(attempt: Attempt) -> Opened:
        ctx = attempt.run.ctx
        if (attempt.target.kind or attempt.target.provider) == FUNCTION_PROVIDER or ctx.cached:
            return await open_target(attempt)
        try:
            reservation = await budgets.reserve(attempt)
        except BudgetExceeded as exc:
            attempt.charge(kind=exc.kind.value, message=exc.message)  # nothing sent
            raise
        if reservation is not None:
            attempt.observers.append(_Settlement(budgets, reservation))
        return await open_target(attempt)

    return open_budgeted
