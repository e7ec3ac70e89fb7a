""":class:`BudgetExceeded`: a spend cap refused a call before anything was sent.

It belongs to the family of :mod:`llm_dispatch.errors` (a :class:`StreamingError`, and a
:class:`ProviderError` of kind ``budget_exceeded`` naming the target refused, as
:class:`AllProvidersFailed` is both) and is importable from ``llm_dispatch``. It lives in a
module of its own as the output errors do (:mod:`.output_errors`).
"""

from __future__ import annotations

from typing import Any

from .error_kinds import ErrorKind
from .errors import ProviderError, StreamingError
from .records import AttemptRecord

__all__ = ["BudgetExceeded"]


class BudgetExceeded(StreamingError, ProviderError):
    """The call's estimated cost would pass a budget's cap: nothing was sent.

    ``budget`` names the budget (``provider openai``, ``scope tenant-a`` or its ``name``),
    ``level`` what it covers (``provider``, ``route`` or ``scope``), ``period`` ``day`` or
    ``month`` and ``window`` which one (``2026-12-07``, ``2026-12``, in the budget's time
    zone). Amounts are USD: ``cap_usd``, ``spent_usd`` (settled calls), ``reserved_usd``
    (the estimates of calls still running) and ``estimate_usd`` (this call's). ``provider``
    and ``model`` are the target refused; ``attempts`` every attempt of the call so far.

    A provider's budget lets the call fall back to the route's next target
    (``allows_fallback``); a route's or a scope's ends the call.
    """

    default_kind = ErrorKind.BUDGET_EXCEEDED

    def __init__(
        self,
        message: str = "",
        *,
        provider: str,
        budget: str = "",
        level: str = "scope",
        period: str = "",
        window: str = "",
        cap_usd: float = 0.0,
        spent_usd: float = 0.0,
        reserved_usd: float = 0.0,
        estimate_usd: float = 0.0,
        **fields: Any,
    ) -> None:
        self.budget = budget
        self.level = level
        self.period = period
        self.window = window
        self.cap_usd = cap_usd
        self.spent_usd = spent_usd
        self.reserved_usd = reserved_usd
        self.estimate_usd = estimate_usd
        self.attempts: list[AttemptRecord] = []
        fields.pop("kind", None)
        if not message:
            message = (
                f"budget {budget!r} per {period} ({window}): spent ${spent_usd:.6f} + "
                f"reserved ${reserved_usd:.6f} + this call's estimate ${estimate_usd:.6f} "
                f"would pass its cap of ${cap_usd:.6f}; nothing was sent"
            )
        ProviderError.__init__(
            self, message, provider=provider, kind=ErrorKind.BUDGET_EXCEEDED, **fields
        )

    @property
    def allows_fallback(self) -> bool:
        """Only a provider's budget leaves the route's other targets to try."""
        return self.level == "provider"
