"""Usage accounting: the provider's token counts, or an estimate, and the cost."""

from __future__ import annotations

from ..context import StreamContext
from ..events import Usage
from .base import Stage

__all__ = ["UsageStage", "estimate_tokens"]


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters a token for English text)."""
    return (len(text) + 3) // 4


class UsageStage(Stage):
    """Fills ``ctx.usage`` (estimated when the provider sent none) and ``ctx.cost_usd``."""

    name = "usage"

    async def on_end(self, ctx: StreamContext) -> str:
        if ctx.usage is None:
            request = ctx.request
            prompt = sum(estimate_tokens(m.content) for m in request.messages)
            prompt += estimate_tokens(request.system or "")
            ctx.usage = Usage.of(prompt, estimate_tokens(ctx.raw_text), estimated=True)
        if ctx.price is not None:
            usage = ctx.usage
            ctx.cost_usd = (
                usage.prompt_tokens * ctx.price.input + usage.completion_tokens * ctx.price.output
            ) / 1_000_000
        return ""
