"""Hedging: when an attempt is slow to its first event, send the next target the request too.

:class:`Opening` is what the dispatcher asks to open each target the fallback policy hands
out. Without ``hedge_after`` (or with a plan of one target) it opens the target's attempt
under the policies that guard it, and nothing else. With it, the attempt opens in a task of
its own; once its request was sent (the first try's, whatever retries follow) and
``hedge_after`` seconds passed without a first event, the fallback policy hands out the next
target (:meth:`~.fallback.Fallback.alongside`), whose attempt opens in a second task while
the first keeps waiting.

The attempt whose first event comes first wins: it claims the race when it reports that
event (:class:`~llm_dispatch.events.FirstTokenEvent`), so the stages hear exactly one first
event and then only the winner's events. The other attempt's task is cancelled, which
closes its request and connection; its ledger record says ``hedged`` (charged like any
attempt stopped before text), and it gives the circuit breaker no verdict. A racer that
fails leaves the other racing; when both fail, the failure that came last goes to the
fallback policy, as a single attempt's would.

Each racer runs under deadlines of its own (its first-token deadline, and the stream's
``total``, whose end they share), because the stream's :class:`~.timeouts.Watchdog` can
watch one task only; after the race it watches the task that streams the winner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ..attempt import Attempt, Opened
from ..errors import ProviderError
from ..events import FirstTokenEvent, HedgeEvent
from ..run import Run
from .timeouts import Watchdog

if TYPE_CHECKING:
    from ..request import Request
    from ..routing.target import Target
    from .fallback import Fallback

__all__ = ["AttemptFor", "OpenAttempt", "Opening"]

#: Builds the attempt of a target the fallback policy handed out, with the request it gets.
AttemptFor = Callable[["Target", "Request"], Attempt]
#: Opens an attempt under the policies that guard it (an ``Open`` run as a task's coroutine).
OpenAttempt = Callable[[Attempt], Coroutine[Any, Any, Opened]]


class Opening:
    """Opens the targets of one stream, hedged when its policy says ``hedge_after``.

    ``open_attempt`` opens one attempt under the policies that guard it, and reports its
    target as the one streaming.
    """

    __slots__ = ("after", "attempt_for", "chain", "open_attempt", "run")

    def __init__(
        self, run: Run, chain: Fallback, attempt_for: AttemptFor, open_attempt: OpenAttempt
    ) -> None:
        self.run = run
        self.chain = chain
        self.attempt_for = attempt_for
        self.open_attempt = open_attempt
        # A plan of one target has nothing to hedge with.
        self.after = run.policy.hedge_after if len(chain.plan.targets) > 1 else None

    async def open(self, target: Target, request: Request) -> tuple[Attempt, Opened]:
        """The attempt that streams (``target``'s, or the hedge's that won) and its opened
        stream; the :class:`ProviderError` that ended ``target`` (and its hedge)."""
        attempt = self.attempt_for(target, request)
        if self.after is None:
            return attempt, await self.open_attempt(attempt)
        return await _Race(self, attempt, self.after).decide()


@dataclass(slots=True, eq=False)
class _RacingRun(Run):
    """The run as one racer sees it: deadlines of its own, and events that reach the stages
    only until the other racer claimed the race."""

    race: _Race | None = None
    racer: Attempt | None = None

    async def emit(self, event: Any) -> None:
        race = self.race
        assert race is not None
        if race.winner is None and isinstance(event, FirstTokenEvent):
            race.winner = self.racer
        if race.winner is None or race.winner is self.racer:
            await Run.emit(self, event)


def _racing(run: Run, race: _Race, racer: Attempt) -> _RacingRun:
    deadlines = Watchdog(run.deadlines.total)
    deadlines.total_at = run.deadlines.total_at  # the stream's total, not a new one
    values = {f.name: getattr(run, f.name) for f in fields(run) if f.init}
    values["deadlines"] = deadlines
    return _RacingRun(**values, race=race, racer=racer)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Race:
    """One attempt, and the hedge that may race it, until one opened or both failed."""

    def __init__(self, opening: Opening, first: Attempt, after: float) -> None:
        self.opening = opening
        self.run = opening.run
        self.first = first
        self.after = after
        #: The racer that reported its first event first.
        self.winner: Attempt | None = None
        self.racers: dict[asyncio.Task[Opened], Attempt] = {}
        #: The failure that came last, and the target it ended.
        self.failure: tuple[ProviderError, Target] | None = None

    async def decide(self) -> tuple[Attempt, Opened]:
        try:
            winner, opened = await self._race()
        except BaseException as exc:
            await self._settle(None)
            if self.failure is not None and exc is self.failure[0]:
                self.opening.chain.settled_on(self.failure[1])
            raise
        try:
            await self._settle(winner)
        except BaseException as exc:  # cancelled again while the loser was being closed
            await opened.events.aclose()
            await winner.abandoned(exc)
            raise
        ctx, target = self.run.ctx, winner.target
        self.opening.chain.settled_on(target)
        ctx.provider, ctx.model, ctx.price = target.provider, target.model, target.price
        ctx.attempt = winner.number
        # The racer's task opened the stream; this one reads it from now on.
        self.run.deadlines.watch()
        return winner, opened

    async def _race(self) -> tuple[Attempt, Opened]:
        loop = asyncio.get_running_loop()
        due: asyncio.Future[None] = loop.create_future()
        timer: asyncio.TimerHandle | None = None

        def sent() -> None:
            nonlocal timer
            if timer is None:  # the first try's request: retries do not move the hedge
                timer = loop.call_later(self.after, _resolve, due)

        self.first.on_send = sent
        first = self._start(self.first)
        try:
            await asyncio.wait((first, due), return_when=asyncio.FIRST_COMPLETED)
            if not first.done() and self.winner is None:
                await self._hedge()
            return await self._first_to_open()
        finally:
            self.first.on_send = None
            if timer is not None:
                timer.cancel()
            due.cancel()

    def _start(self, attempt: Attempt) -> asyncio.Task[Opened]:
        attempt.run = _racing(self.run, self, attempt)
        task = asyncio.create_task(
            self.opening.open_attempt(attempt), name=f"llm_dispatch.hedge:{attempt.target.key}"
        )
        self.racers[task] = attempt
        return task

    async def _hedge(self) -> None:
        step = self.opening.chain.alongside()
        if step is None:
            return
        target, request = step
        try:
            hedge = self.opening.attempt_for(target, request)
        except ProviderError as exc:
            self.failure = (exc, target)
            return
        self._start(hedge)
        waiting = self.first.target
        await self.run.emit(
            HedgeEvent(waiting.provider, waiting.model, target.provider, target.model, self.after)
        )

    async def _first_to_open(self) -> tuple[Attempt, Opened]:
        pending: set[asyncio.Task[Opened]] = set(self.racers)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # When both opened by now, the one that claimed the race wins.
            for task in sorted(done, key=lambda t: self.racers[t] is not self.winner):
                if task.cancelled():
                    raise asyncio.CancelledError
                exc = task.exception()
                if exc is None:
                    attempt = self.racers[task]
                    if self.winner is None:
                        self.winner = attempt
                    if self.winner is attempt:
                        return attempt, task.result()
                elif isinstance(exc, ProviderError):
                    self.failure = (exc, self.racers[task].target)
                else:
                    raise exc
        assert self.failure is not None
        raise self.failure[0]

    async def _settle(self, winner: Attempt | None) -> None:
        """Stop every racer but ``winner`` and wait until each is closed and recorded; then
        give every racer the stream's run back."""
        others = {task: a for task, a in self.racers.items() if a is not winner}
        if winner is not None:
            stopped = ("hedged", f"another target answered first ({winner.target.key})")
            for attempt in others.values():
                attempt.stopped_by_policy = stopped
        for task in others:
            task.cancel()
        try:
            await _wait_all(others)
        finally:
            for task, attempt in others.items():
                if task.done() and not task.cancelled() and task.exception() is None:
                    # It opened too, after the winner claimed the race: close it now.
                    await task.result().events.aclose()
                    await attempt.abandoned(asyncio.CancelledError())
            for attempt in self.racers.values():
                if isinstance(attempt.run, _RacingRun):
                    attempt.run.deadlines.close()
                attempt.run = self.run


async def _wait_all(tasks: Iterable[asyncio.Task[Opened]]) -> None:
    """Wait until every task ended, even when cancelled meanwhile (then raise that after)."""
    pending = {task for task in tasks if not task.done()}
    cancelled = False
    while pending:
        try:
            _, pending = await asyncio.wait(pending)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
