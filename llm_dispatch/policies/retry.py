"""Retrying one target before its first chunk, with tenacity.

:func:`with_retry` wraps opening an attempt: only :class:`ProviderError` s whose kind is
retryable are retried; the wait is exponential with jitter, or the provider's
``Retry-After`` (capped), and never sleeps past the ``total`` deadline. A failure to
connect (refused, or the ``connect`` deadline) is retried only while the policy's
``retry.connection_errors`` is on. Each retry is reported to the stages as a
:class:`RetryEvent`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from ..attempt import Attempt, Open, Opened
from ..errors import ErrorKind, ProviderError, ProviderTimeoutError, StreamTimeout
from ..events import RetryEvent
from ..settings.models import RetrySettings

__all__ = ["build_retrying", "is_connection_failure", "retry_wait", "with_retry"]


def retry_wait(settings: RetrySettings, attempt: int, exc: BaseException | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry)."""
    if isinstance(exc, ProviderError) and exc.retry_after is not None:
        return min(max(float(exc.retry_after), 0.0), settings.retry_after_cap)
    delay: float = min(settings.backoff_base * (2 ** (attempt - 1)), settings.backoff_max)
    return delay * (1 + random.uniform(-settings.jitter, settings.jitter))


class _Wait(wait_base):
    def __init__(self, settings: RetrySettings) -> None:
        self.settings = settings

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        return retry_wait(self.settings, retry_state.attempt_number, exc)


def is_connection_failure(exc: ProviderError) -> bool:
    """Whether ``exc`` says no connection was made: refused or reset, or the connect
    deadline."""
    if exc.kind is ErrorKind.CONNECTION:
        return True
    return isinstance(exc, ProviderTimeoutError) and exc.limit == "connect"


def _retryable_under(settings: RetrySettings) -> Callable[[BaseException], bool]:
    def retryable(exc: BaseException) -> bool:
        if not isinstance(exc, ProviderError) or not exc.is_retryable:
            return False
        return settings.connection_errors or not is_connection_failure(exc)

    return retryable


def build_retrying(
    settings: RetrySettings,
    *,
    sleep: Callable[[float], Awaitable[None]],
    before_sleep: Callable[[RetryCallState], Awaitable[None]],
) -> AsyncRetrying:
    """A tenacity loop for one target: ``max_retries`` retries of retryable errors.

    ``sleep`` is the dispatcher's deadline-aware sleep: it raises ``StreamTimeout('total')``
    instead of sleeping past the total deadline.
    """
    return AsyncRetrying(
        sleep=sleep,
        stop=stop_after_attempt(settings.max_retries + 1),
        wait=_Wait(settings),
        retry=retry_if_exception(_retryable_under(settings)),
        before_sleep=before_sleep,
        reraise=True,
    )


def with_retry(open_once: Open) -> Open:
    """``open_once`` retried on the same target as the attempt's policy says."""

    async def open_retrying(attempt: Attempt) -> Opened:
        run, target = attempt.run, attempt.target
        settings = run.policy.retry
        if settings.max_retries == 0:
            # One try and nothing to retry: what tenacity would do (raise the try's error as
            # it is), without setting up its loop on every call.
            return await open_once(attempt)

        async def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            assert isinstance(exc, ProviderError)
            event = RetryEvent(
                target.provider,
                target.model,
                state.attempt_number,
                exc.kind.value,
                exc.status_code,
                state.upcoming_sleep,
                exc.message,
            )
            await attempt.emit(event)

        async def sleep(seconds: float) -> None:
            remaining = run.deadlines.remaining()
            if seconds >= remaining:
                await asyncio.sleep(max(remaining, 0.0))
                raise StreamTimeout("total", run.policy.timeouts.total or 0.0)
            await asyncio.sleep(seconds)

        retrying = build_retrying(settings, sleep=sleep, before_sleep=before_sleep)
        async for trying in retrying:
            with trying:
                return await open_once(attempt)
        raise AssertionError("unreachable: tenacity either returns or raises")

    return open_retrying
