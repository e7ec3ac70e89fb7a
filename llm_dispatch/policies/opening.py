"""The policies around opening an attempt, composed in their order.

Innermost first: one try (:func:`.first_token.open_first_event`), admitted by the
providers' limits (:func:`.limits.limited`), retried (:func:`.retry.with_retry`),
guarded by the target's circuit (:func:`.circuit.guarded_by_circuit`), and held against
the spend caps (:func:`llm_dispatch.budgets.guarded_by_budgets`). Limits sit inside retry
so that every request sent, retries included, is counted and admitted; the budgets'
reservation is outermost, one per attempt, settled with what all its tries cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..budgets import Budgets, guarded_by_budgets
from .circuit import CircuitBreaker, guarded_by_circuit
from .first_token import open_first_event
from .limits import Limiter, limited
from .retry import with_retry

if TYPE_CHECKING:
    from ..attempt import Open

__all__ = ["attempt_opener"]


def attempt_opener(circuit: CircuitBreaker, limits: Limiter, budgets: Budgets) -> Open:
    """Open an attempt under the budgets, the circuit breaker, retry, the limits and the
    first-token deadline."""
    opening = guarded_by_circuit(circuit, with_retry(limited(limits, open_first_event)))
    return guarded_by_budgets(budgets, opening)
