"""The error of an attempt a rate or concurrency limit refused: :class:`LimitReached`.

A :class:`~llm_dispatch.errors.ProviderError` of kind ``limit_reached`` (it lives in a module
of its own, next to the family in :mod:`llm_dispatch.errors`); raised by the limits policy
(:mod:`llm_dispatch.policies.limits`) before anything is sent.
"""

from __future__ import annotations

from typing import Any

from .error_kinds import ErrorKind
from .errors import ProviderError

__all__ = ["LimitReached"]


class LimitReached(ProviderError):
    """A configured limit (or a provider's ``Retry-After`` hold) refused the attempt; nothing
    was sent.

    ``limit`` names it (``requests_per_minute``, ``tokens_per_minute``, ``max_concurrent``,
    ``retry_after``), ``scope`` what it limits (``openai`` or ``openai/gpt-4o``),
    ``retry_in`` the seconds until it would allow the request (None: unknown, ``inf``:
    never, the request alone is more than it allows). ``fallback`` says whether the next
    target may be tried: under ``on_limit: fallback``, or when no wait could help; under
    ``wait`` it is raised when the wait would pass the call's ``total`` deadline, and does
    not fall back.
    """

    default_kind = ErrorKind.LIMIT_REACHED

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        limit: str = "",
        scope: str = "",
        retry_in: float | None = None,
        fallback: bool = True,
        **fields: Any,
    ) -> None:
        super().__init__(message, provider=provider, **fields)
        self.limit = limit
        self.scope = scope or provider
        self.retry_in = retry_in
        self.fallback = fallback

    @property
    def allows_fallback(self) -> bool:
        return self.fallback
