"""The :class:`~llm_dispatch.errors.ProviderError` subclass of each :class:`.ErrorKind`.

:func:`provider_error` builds the exception a provider raises for a failure of a given kind:
``provider_error("rate_limit", ...)`` is a :class:`~llm_dispatch.errors.RateLimitError`.
"""

from __future__ import annotations

from typing import Any

from .budget_errors import BudgetExceeded
from .error_kinds import ErrorKind
from .errors import (
    AuthenticationError,
    BadRequestError,
    CircuitOpenError,
    ContentFilterError,
    ContextLengthError,
    IncompleteStreamError,
    MalformedEventError,
    NotFoundError,
    OverloadedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from .limit_errors import LimitReached

__all__ = ["provider_error"]

_CLASS_FOR_KIND: dict[ErrorKind, type[ProviderError]] = {
    ErrorKind.RATE_LIMIT: RateLimitError,
    ErrorKind.SERVER: ServerError,
    ErrorKind.OVERLOADED: OverloadedError,
    ErrorKind.TIMEOUT: ProviderTimeoutError,
    ErrorKind.CONNECTION: ProviderConnectionError,
    ErrorKind.AUTH: AuthenticationError,
    ErrorKind.BAD_REQUEST: BadRequestError,
    ErrorKind.NOT_FOUND: NotFoundError,
    ErrorKind.CONTEXT_LENGTH: ContextLengthError,
    ErrorKind.CONTENT_FILTER: ContentFilterError,
    ErrorKind.INCOMPLETE: IncompleteStreamError,
    ErrorKind.MALFORMED: MalformedEventError,
    ErrorKind.CIRCUIT_OPEN: CircuitOpenError,
    ErrorKind.LIMIT_REACHED: LimitReached,
    ErrorKind.BUDGET_EXCEEDED: BudgetExceeded,
}


def provider_error(kind: ErrorKind | str, message: str, **fields: Any) -> ProviderError:
    """Build the :class:`ProviderError` subclass that matches ``kind``."""
    kind = ErrorKind(kind)
    return _CLASS_FOR_KIND[kind](message, kind=kind, **fields)
