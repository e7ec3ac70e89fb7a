"""Spend caps per provider, route or scope, per day and per month (see docs/budgets.md).

- :mod:`.policy`: :class:`Budgets` (which caps an attempt is under, its estimate, the
  store or this process's counters when the store is down), :class:`BudgetStatus`;
- :mod:`.guard`: :func:`guarded_by_budgets`, the policy around opening an attempt;
- :mod:`.store`: the counters' rules and :class:`MemoryBudgetStore`;
  :mod:`.redis_store`: :class:`RedisBudgetStore` (imported when a Redis store is used);
- :mod:`.windows`: days and months in a time zone.
"""

from __future__ import annotations

from .guard import guarded_by_budgets
from .policy import BUDGET_SCOPE, Budgets, BudgetStatus, Reservation, store_from_settings
from .store import BudgetStore, Counter, MemoryBudgetStore, Refusal, Tally

__all__ = [
    "BUDGET_SCOPE",
    "BudgetStatus",
    "BudgetStore",
    "Budgets",
    "Counter",
    "MemoryBudgetStore",
    "Refusal",
    "Reservation",
    "Tally",
    "guarded_by_budgets",
    "store_from_settings",
]
