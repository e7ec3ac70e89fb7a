"""Retrying one target before its first chunk, with tenacity.

Only :class:`ProviderError` s whose kind is retryable are retried. The wait is exponential
with jitter, or the provider's ``Retry-After`` (capped).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_base

from ..errors import ProviderError
from ..settings.models import RetrySettings

__all__ = ["build_retrying", "retry_wait"]


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


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.is_retryable


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
        retry=retry_if_exception(_is_retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
