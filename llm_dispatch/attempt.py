"""One attempt: a target tried for one stream, and how what happens to it is reported.

An :class:`Attempt` holds what is sent (the target, the provider serving it, the request),
the deadlines it runs under (through its :class:`~llm_dispatch.run.Run`), and the hooks
policies report through: :meth:`Attempt.emit` (events to the stages), :meth:`Attempt.charge`
(the ledger) and its observers, who hear when each try starts, and how each try and the
attempt as a whole ended (the circuit breaker's verdicts; those of the run's
:mod:`~llm_dispatch.stream_hooks`).

Opening an attempt — sending the request and waiting for its first event — is an
:data:`Open`; the policies that guard it (retry, first-token deadline, circuit breaker) are
``Open`` s wrapping an ``Open`` (see :mod:`llm_dispatch.policies`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import InitVar, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .errors import ProviderError, StreamTimeout
from .events import FirstTokenEvent, ProviderEvent, Usage
from .providers.base import ModelPrice, Provider
from .records import AttemptRecord
from .request import Request
from .run import Run
from .settings.policies import TimeoutSettings

if TYPE_CHECKING:
    from .routing.target import Target

__all__ = ["Attempt", "AttemptObserver", "Ending", "Open", "Opened"]

# What a call that joined another's identical stream costs.
_FREE = ModelPrice(input=0.0, output=0.0)

#: How an attempt ended: its stream completed, failed after text, never opened, or was
#: left (the consumer went away, a stage raised, the total deadline fired while waiting).
Ending = Literal["ok", "interrupted", "not_opened", "abandoned"]


@dataclass(slots=True)
class Opened:
    """An attempt whose stream is open: its events, and the first one (None: it ended)."""

    events: AsyncGenerator[ProviderEvent, None]
    first: ProviderEvent | None


class AttemptObserver(Protocol):
    """Hears when each of an attempt's tries starts, how each failed, and how the attempt
    ended."""

    def try_started(self, attempt: Attempt) -> None: ...

    async def try_failed(self, attempt: Attempt, error: ProviderError) -> None: ...

    async def ended(self, attempt: Attempt, ending: Ending) -> None: ...


#: Called once per attempt; the observer it returns (None: none) hears the attempt's tries.
ObserverFactory = Callable[["Attempt"], "AttemptObserver | None"]


@dataclass(slots=True, eq=False)
class Attempt:
    """One target of one stream (see the module docstring)."""

    run: Run
    target: Target
    provider: Provider
    request: Request
    timeouts: TimeoutSettings
    #: Characters the stream had delivered when this attempt started.
    chars_before: int
    #: 1-based number of the try in progress (retries count up; 0 before the first).
    number: int = 0
    #: Set when the attempt joined another call's identical stream: it spends nothing.
    free: bool = False
    observers: list[AttemptObserver] = field(default_factory=list)
    #: Called each time a try sends the request (a hedge times its wait from the first).
    on_send: Callable[[], None] | None = None
    #: ``(kind, message)`` for the ledger when a policy stopped this attempt on purpose
    #: (the loser of a hedge); None: stopping it means the stream as a whole stopped.
    stopped_by_policy: tuple[str, str] | None = None
    #: What the ledger recorded of this attempt, in order: each try, and how it ended. The
    #: stream's ledger also holds the other attempts' records (a hedge's racer charges
    #: its own while this one waits), so what this attempt cost is read from here.
    records: list[AttemptRecord] = field(default_factory=list)
    #: Called once each with the new attempt: the observers they return (None: none) are
    #: added (the observer factories of the process hooks its stream took).
    watchers: InitVar[tuple[ObserverFactory, ...]] = ()

    def __post_init__(self, watchers: tuple[ObserverFactory, ...]) -> None:
        for observe in watchers:
            observer = observe(self)
            if observer is not None:
                self.observers.append(observer)

    @property
    def delivered(self) -> str:
        """The provider text this attempt delivered so far."""
        return self.run.ctx.raw_text[self.chars_before :]

    def next_try(self) -> None:
        self.number += 1
        self.run.ctx.attempt = self.number
        for observer in self.observers:
            observer.try_started(self)

    def charge_nothing(self) -> None:
        self.free = True

    async def emit(self, event: Any) -> None:
        await self.run.emit(event)

    def charge(
        self,
        *,
        kind: str | None = None,
        status_code: int | None = None,
        message: str = "",
        usage: Usage | None = None,
        text: str = "",
    ) -> AttemptRecord:
        """Record one try (or the attempt's end) in the stream's ledger, charged at the
        target's price (nothing when :attr:`free`)."""
        record = self.run.ctx.ledger.charge(
            provider=self.target.provider,
            model=self.target.model,
            attempt=self.number,
            request=self.request,
            price=_FREE if self.free else self.target.price,
            kind=kind,
            status_code=status_code,
            message=message,
            usage=usage,
            text=text,
        )
        self.records.append(record)
        return record

    async def try_failed(self, error: ProviderError) -> None:
        """A try failed before text: mark and record it, tell the observers."""
        error.attempt = self.number
        error.partial_text = self.run.ctx.text
        self.charge(kind=error.kind.value, status_code=error.status_code, message=error.message)
        for observer in self.observers:
            await observer.try_failed(self, error)

    async def opened(self, ttft: float) -> None:
        """The first event arrived ``ttft`` seconds after the request was sent."""
        if not self.run.ctx.cached:  # a replay says nothing about the provider's latency
            self.run.observe_ttft(self.target.key, ttft)
        target = self.target
        await self.emit(FirstTokenEvent(target.provider, target.model, self.number, ttft))

    async def ended(self, ending: Ending) -> None:
        """Tell the observers how the attempt ended (once)."""
        for observer in self.observers:
            await observer.ended(self, ending)

    async def abandoned(self, exc: BaseException) -> None:
        """The stream stopped while this attempt streamed: record it, tell the observers."""
        self.abandon(exc)
        await self.ended("abandoned")

    def abandon(self, exc: BaseException) -> None:
        """Record an attempt that ended because the stream as a whole stopped."""
        if self.stopped_by_policy is not None:
            kind, message = self.stopped_by_policy
        elif isinstance(exc, StreamTimeout):
            kind, message = "timeout", str(exc)
        elif isinstance(exc, asyncio.CancelledError | GeneratorExit):
            kind, message = "cancelled", "the consumer stopped the stream"
        else:
            kind, message = "aborted", f"{type(exc).__name__}: {exc}"
        self.charge(kind=kind, message=message, text=self.delivered)


#: Open an attempt: send its request and wait for its first event.
Open = Callable[[Attempt], Awaitable[Opened]]
