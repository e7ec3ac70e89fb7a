"""Falling back: the plan's targets, tried in order until one completes the stream.

A target is left for the next one after a failure that allows it (an error of a kind in
``FALLBACK_KINDS``, or of a kind the policy's ``fallback_on`` lists, with the ``fallback``
policy on), or after a failure after text under ``mid_stream: continue``. Every move is
reported to the stages as a :class:`FallbackEvent`. When no target completed,
:meth:`Fallback.error` says why, listing every attempt (a budget that refused the last
target is raised itself).

After a ``context_length`` failure the request is known not to fit that target's context
window, so the targets handed out next are those whose known window is larger than the
largest window that failed so far (a target with an unknown window is still tried); the
others are recorded in the ledger as ``skipped`` with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..budget_errors import BudgetExceeded
from ..errors import (
    AllProvidersFailed,
    ErrorKind,
    ProviderError,
    ProviderTimeoutError,
    StreamInterrupted,
    StreamTimeout,
)
from ..events import FallbackEvent
from ..request import Request
from ..run import Run
from .mid_stream import request_for

if TYPE_CHECKING:
    from ..routing.router import Plan
    from ..routing.target import Target

__all__ = ["Fallback"]


class Fallback:
    """The fallback policy of one run over ``plan``."""

    def __init__(self, run: Run, plan: Plan) -> None:
        self.run = run
        self.plan = plan
        self.last_error: ProviderError | None = None
        self.completed = False
        self._stopped = False
        self._position = 0
        self._previous: Target | None = None
        # The target with the largest known context window the request did not fit.
        self._too_small: Target | None = None

    async def next(self) -> tuple[Target, Request] | None:
        """The next target to try, with the request it gets; None once the stream is
        settled (a target completed it, a failure allows no fallback, or none is left)."""
        step = self._take()
        if step is not None:
            if self._previous is not None:
                await self._report(self._previous, step[0])
            self._previous = step[0]
        return step

    def alongside(self) -> tuple[Target, Request] | None:
        """The next target, tried at the same time as the one in progress (a hedge): handed
        out as :meth:`next` would, but no fallback is reported."""
        return self._take()

    def settled_on(self, target: Target) -> None:
        """Of targets tried at the same time, ``target`` is the one whose outcome comes
        next: the one streaming, or the one whose failure :meth:`failed` hears."""
        self._previous = target

    def _take(self) -> tuple[Target, Request] | None:
        while not (self.completed or self._stopped) and self._position < len(self.plan.targets):
            target = self.plan.targets[self._position]
            self._position += 1
            request = request_for(self.run, target)
            if request is None or self._window_too_small(target, request):
                continue
            return target, request
        return None

    def failed(self, error: ProviderError) -> None:
        """A target failed before text with ``error``: go on only if a fallback may."""
        self.last_error = error
        policy = self.run.policy
        allowed = error.allows_fallback or error.kind.value in policy.fallback_on
        if not allowed or not policy.fallback:
            self._stopped = True
        elif error.kind is ErrorKind.CONTEXT_LENGTH and self._previous is not None:
            window = self._previous.context_window
            largest = self._too_small.context_window if self._too_small is not None else None
            if window is not None and (largest is None or window > largest):
                self._too_small = self._previous

    def interrupted(self, error: ProviderError) -> None:
        """A target failed after text and the next one continues the answer."""
        self.last_error = error

    def complete(self) -> None:
        self.completed = True

    def error(self) -> BaseException:
        """What to raise when no target completed the stream."""
        ctx, last = self.run.ctx, self.last_error
        assert last is not None
        attempts = ctx.ledger.entries
        error: BaseException
        if ctx.raw:
            error = StreamInterrupted(
                ctx.text, provider=ctx.provider, model=ctx.model, cause=last, attempts=attempts
            )
        elif isinstance(last, BudgetExceeded) or (not last.allows_fallback and len(attempts) == 1):
            # A cap refused the last target (nothing sent): the call ends on that refusal.
            return last
        elif isinstance(last, ProviderTimeoutError) and last.limit is not None:
            # The chain ran out on a deadline: say which one, with every attempt listed.
            error = StreamTimeout(
                last.limit, last.seconds or 0.0, provider=last.provider, model=last.model
            )
            error.attempts = attempts
        else:
            error = AllProvidersFailed(attempts, last)
        error.__cause__ = last
        return error

    def _window_too_small(self, target: Target, request: Request) -> bool:
        """True when a ``context_length`` failure showed ``target``'s known window to be
        too small (recorded as skipped)."""
        failed = self._too_small
        window = target.context_window
        limit = failed.context_window if failed is not None else None
        if failed is None or window is None or limit is None or window > limit:
            return False
        self.run.ctx.ledger.charge(
            provider=target.provider,
            model=target.model,
            attempt=0,
            request=request,
            price=target.price,
            kind="skipped",
            message=f"context window of {window:,} tokens is not larger than that of "
            f"{failed.key} ({limit:,} tokens), which the request did not fit",
        )
        return True

    async def _report(self, previous: Target, target: Target) -> None:
        last = self.last_error
        await self.run.emit(
            FallbackEvent(
                previous.provider,
                previous.model,
                target.provider,
                target.model,
                str(last) if last else "",
                last.kind.value if last else "",
            )
        )
