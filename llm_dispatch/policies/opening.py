"""The policies around opening an attempt, composed in their order.

Innermost first: one try (:func:`.first_token.open_first_event`), admitted by the
providers' limits (:func:`.limits.limited`), retried (:func:`.retry.with_retry`), and
guarded by the target's circuit (:func:`.circuit.guarded_by_circuit`). Limits sit inside
retry so that every request sent, retries included, is counted and admitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .circuit import CircuitBreaker, guarded_by_circuit
from .first_token import open_first_event
from .limits import Limiter, limited
from .retry import with_retry

if TYPE_CHECKING:
    from ..attempt import Open

__all__ = ["attempt_opener"]


def attempt_opener(circuit: CircuitBreaker, limits: Limiter) -> Open:
    """Open an attempt under the circuit breaker, retry, the limits and the first-token
    deadline."""
    return guarded_by_circuit(circuit, with_retry(limited(limits, open_first_event)))
