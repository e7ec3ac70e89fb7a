"""A call's choice of usage accounting (the client's ``StreamingOptions``), as a stage.

- ``counter``: how the token counts a provider does not report are estimated for this
  stream (:data:`~llm_dispatch.tokens.TokenCounter`);
- ``report=False``: no usage for this stream. Nothing is estimated (the ledger keeps each
  attempt with the provider's own counts only, for errors and ``stream.attempts``), and the
  stream ends with ``usage`` and ``cost_usd`` None: no ``on_usage`` callback, no usage in
  the final chunk dict.

It runs among a call's checks, before progress and callbacks (see :mod:`.pipeline`), so
those see its choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..tokens import TokenCounter
from .base import Stage

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["UsageOptionsStage"]


class UsageOptionsStage(Stage):
    """Applies one call's usage choices (see the module docstring)."""

    name = "usage_options"

    def __init__(self, *, report: bool = True, counter: TokenCounter = "auto") -> None:
        self.report = report
        self.counter: TokenCounter = counter

    async def on_start(self, ctx: StreamContext) -> None:
        ctx.ledger.count_with(self.counter if self.report else None)

    async def on_end(self, ctx: StreamContext) -> str:
        self._settle(ctx)
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        self._settle(ctx)

    def _settle(self, ctx: StreamContext) -> None:
        if not self.report:
            ctx.usage = None
            ctx.cost_usd = None
