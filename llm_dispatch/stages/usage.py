"""Usage accounting: the stream's token counts and cost, from the per-attempt ledger."""

from __future__ import annotations

from ..context import StreamContext
from ..events import Usage
from ..ledger import cost_of
from ..tokens import counter_used, estimate_prompt_tokens, estimate_tokens
from .base import Stage

__all__ = ["ESTIMATED_BY", "UsageStage", "estimate_tokens"]

#: ``StreamContext.values`` key: what counted a usage estimated without a ledger entry.
ESTIMATED_BY = "usage.estimated_by"


class UsageStage(Stage):
    """Sets ``ctx.usage`` and ``ctx.cost_usd`` to the ledger's sums when the stream ends.

    It runs first, at the end as on an error, so every later stage (callbacks, progress) and
    the final chunk dict see the totals of every attempt — retries, the interrupted part of
    a continued answer — not only the last provider's report. A stream with no attempt in
    its ledger keeps what it has, or gets an estimate.
    """

    name = "usage"

    async def on_end(self, ctx: StreamContext) -> str:
        self._settle(ctx)
        return ""

    async def on_error(self, ctx: StreamContext, exc: BaseException) -> None:
        self._settle(ctx)

    @staticmethod
    def _settle(ctx: StreamContext) -> None:
        ledger = ctx.ledger
        if ledger.entries:
            ctx.usage = ledger.usage
            ctx.cost_usd = ledger.cost_usd
            return
        counter = ledger.counter
        if ctx.usage is None and ctx.raw and counter is not None:
            ctx.usage = Usage.of(
                estimate_prompt_tokens(ctx.request, counter),
                estimate_tokens(ctx.raw_text, counter),
                estimated=True,
            )
            ctx.values[ESTIMATED_BY] = counter_used(counter)
        if ctx.usage is not None:
            ctx.cost_usd = cost_of(ctx.usage, ctx.price)
