"""Falling back: the plan's targets, tried in order until one completes the stream.

A target is left for the next one after a failure that allows it (an error of a kind in
``FALLBACK_KINDS``, with the ``fallback`` policy on), or after a failure after text under
``mid_stream: continue``. Every move is reported to the stages as a :class:`FallbackEvent`.
When no target completed, :meth:`Fallback.error` says why, listing every attempt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import (
    AllProvidersFailed,
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

    async def next(self) -> tuple[Target, Request] | None:
        """The next target to try, with the request it gets; None once the stream is
        settled (a target completed it, a failure allows no fallback, or none is left)."""
        while not (self.completed or self._stopped) and self._position < len(self.plan.targets):
            target = self.plan.targets[self._position]
            self._position += 1
            request = request_for(self.run, target)
            if request is None:
                continue
            if self._previous is not None:
                await self._report(self._previous, target)
            self._previous = target
            return target, request
        return None

    def failed(self, error: ProviderError) -> None:
        """A target failed before text with ``error``: go on only if a fallback may."""
        self.last_error = error
        if not error.allows_fallback or not self.run.policy.fallback:
            self._stopped = True

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
        elif not last.allows_fallback and len(attempts) == 1:
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
