"""The per-request ledger: every attempt with the tokens it used and what it cost.

A dispatched stream may take several attempts: retries of one target, fallbacks to others,
the interrupted part of an answer and its continuation. Each is billed by its provider, so
each gets one :class:`AttemptRecord`, and the stream's ``usage`` / ``cost_usd`` are the
ledger's sums (never just the last provider's report). The same records are what errors
that list attempts (``AllProvidersFailed.attempts`` ...) and ``stream.attempts`` hold.

How an attempt is charged:

- **refused or never sent** — an HTTP error status (429, 5xx, 4xx) before any text, a
  connection that failed before any text, a target skipped without a request: nothing
  (``charged=False``). Providers do not bill requests they refuse.
- **accepted, failed before text** — a first-token timeout, a cut, malformed or blocked
  stream, a consumer that left while waiting, a hedge's loser: the prompt (estimated), no
  completion. The
  provider read the prompt and may bill it; the ledger errs on the side of counting.
- **delivered text** — the prompt and the text this attempt delivered: the provider's
  counts when it reported them (a completed stream), else estimates from the request that
  was sent (including any continuation prefix) and the characters received. A provider
  report with a count missing (zero while the prompt / text was not empty) has that count
  estimated.

Estimated counts set ``usage.estimated``; the totals are estimated when any entry is.
How estimates are counted is the ledger's :meth:`~Ledger.count_with` choice (a
:data:`~llm_dispatch.tokens.TokenCounter`, default ``auto``; ``None``: no estimates at all,
only the provider's own counts); :attr:`Ledger.estimated_by` says what counted them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field, PrivateAttr, computed_field

from .events import Usage
from .providers.base import ModelPrice
from .records import AttemptRecord
from .request import Request
from .tokens import TokenCounter, counter_used, estimate_prompt_tokens, estimate_tokens

__all__ = ["AttemptRecord", "Ledger", "LedgerEntry", "cost_of"]

# Outcomes for which no request reached a provider, whatever else is known.
_NOT_SENT = frozenset({"skipped", "circuit_open", "limit_reached", "budget_exceeded"})


def cost_of(usage: Usage, price: ModelPrice | None) -> float | None:
    """USD for ``usage`` at ``price`` (per million tokens); None when the price is unknown."""
    if usage.total_tokens == 0:
        return 0.0
    if price is None:
        return None
    cached, written = usage.cached_input_tokens, usage.cache_write_tokens
    plain = max(usage.prompt_tokens - cached - written, 0)
    cached_price = price.input if price.cached_input is None else price.cached_input
    write_price = price.input if price.cache_write is None else price.cache_write
    input_cost = plain * price.input + cached * cached_price + written * write_price
    return (input_cost + usage.completion_tokens * price.output) / 1e6


LedgerEntry = AttemptRecord
"""The ledger's name for an :class:`AttemptRecord` (the same class)."""


class Ledger(BaseModel):
    """Every attempt of one request, and their totals (``usage``, ``cost_usd``)."""

    entries: list[AttemptRecord] = Field(default_factory=list)
    _counter: TokenCounter | None = PrivateAttr(default="auto")
    _estimated_by: str | None = PrivateAttr(default=None)

    def count_with(self, counter: TokenCounter | None) -> None:
        """How the counts a provider did not report are estimated from now on (see
        :mod:`llm_dispatch.tokens`); ``None``: not at all (they stay 0)."""
        self._counter = counter

    @property
    def counter(self) -> TokenCounter | None:
        """The estimate :meth:`count_with` chose."""
        return self._counter

    @property
    def estimated_by(self) -> str | None:
        """What counted the estimates in this ledger (``tiktoken/o200k_base``,
        ``characters``), or None when nothing was estimated."""
        return self._estimated_by

    def charge(
        self,
        *,
        provider: str,
        model: str,
        attempt: int,
        request: Request,
        price: ModelPrice | None,
        kind: str | None = None,
        status_code: int | None = None,
        message: str = "",
        usage: Usage | None = None,
        text: str = "",
    ) -> AttemptRecord:
        """Record and charge one finished attempt (see the module docstring for the rules).

        ``request`` is what was sent (with any continuation prefix), ``usage`` the provider's
        report for this attempt if it sent one, ``text`` what the attempt delivered; a
        ``price`` of None leaves the cost unknown.
        """
        charged_usage, charged = _charge(
            kind or "ok", status_code, request, usage, text, self._counter
        )
        if charged_usage.estimated and self._counter is not None:
            self._estimated_by = counter_used(self._counter)
        record = AttemptRecord(
            provider=provider,
            model=model,
            attempt=attempt,
            kind=kind,
            status_code=status_code,
            message=message,
            chars=len(text),
            charged=charged,
            usage=charged_usage,
            cost_usd=cost_of(charged_usage, price),
        )
        self.entries.append(record)
        return record

    @computed_field  # type: ignore[prop-decorator]
    @property
    def usage(self) -> Usage | None:
        """The sum over every attempt; None before any attempt ended."""
        return _total(self.entries)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def cost_usd(self) -> float | None:
        """The sum over every attempt; None when an attempt with tokens has no known price."""
        if not self.entries:
            return None
        total = 0.0
        for entry in self.entries:
            if entry.cost_usd is None:
                return None
            total += entry.cost_usd
        return total


def _charge(
    outcome: str,
    status_code: int | None,
    request: Request,
    usage: Usage | None,
    text: str,
    counter: TokenCounter | None,
) -> tuple[Usage, bool]:
    if outcome in _NOT_SENT:
        return Usage(), False
    if not text and usage is None and (status_code is not None or outcome == "connection"):
        return Usage(), False
    estimated = False
    prompt = usage.prompt_tokens if usage is not None else 0
    if prompt == 0 and counter is not None:
        prompt = estimate_prompt_tokens(request, counter)
        estimated = prompt > 0
    completion = usage.completion_tokens if usage is not None else 0
    if completion == 0 and text and counter is not None:
        completion = estimate_tokens(text, counter)
        estimated = True
    if usage is None:
        return Usage.of(prompt, completion, estimated=estimated), True
    if (
        usage.prompt_tokens == prompt
        and usage.completion_tokens == completion
        and usage.total_tokens == prompt + completion
        and usage.estimated == estimated
    ):
        return usage, True  # already what a copy would be (and frozen)
    return usage.model_copy(
        update={
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "estimated": estimated,
        }
    ), True


def _total(entries: Sequence[AttemptRecord]) -> Usage | None:
    if not entries:
        return None
    return Usage.of(
        sum(e.usage.prompt_tokens for e in entries),
        sum(e.usage.completion_tokens for e in entries),
        estimated=any(e.usage.estimated for e in entries),
        reasoning=sum(e.usage.reasoning_tokens for e in entries),
        cached_input=sum(e.usage.cached_input_tokens for e in entries),
        cache_write=sum(e.usage.cache_write_tokens for e in entries),
    )
