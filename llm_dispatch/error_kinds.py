"""What kind of failure a provider attempt met, and what the dispatcher may do after it.

:class:`ErrorKind` names the failure independently of the provider that reported it; every
:class:`~llm_dispatch.errors.ProviderError` carries one. :data:`RETRYABLE_KINDS` are the
kinds after which the same target may be tried again, :data:`FALLBACK_KINDS` those after
which the next target is still worth trying.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FALLBACK_KINDS", "NOT_CIRCUIT_FAILURES", "RETRYABLE_KINDS", "ErrorKind"]


class ErrorKind(StrEnum):
    """What happened, independent of the provider that reported it."""

    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    CONTEXT_LENGTH = "context_length"
    CONTENT_FILTER = "content_filter"
    # The body ended without the provider's closing event (no finish reason, no [DONE],
    # no message_stop): the text is truncated even though the HTTP exchange looked fine.
    INCOMPLETE = "incomplete"
    # An event that does not parse: the server sent garbage mid-stream.
    MALFORMED = "malformed"
    # The target's circuit refused it when the attempt opened (its half-open probe was
    # taken meanwhile): nothing was sent.
    CIRCUIT_OPEN = "circuit_open"
    # A configured rate or concurrency limit (or a provider's Retry-After hold) refused the
    # attempt when it opened: nothing was sent.
    LIMIT_REACHED = "limit_reached"
    # A spend cap refused the target when the attempt opened: nothing was sent.
    BUDGET_EXCEEDED = "budget_exceeded"


RETRYABLE_KINDS = frozenset(
    {
        ErrorKind.RATE_LIMIT,
        ErrorKind.SERVER,
        ErrorKind.OVERLOADED,
        ErrorKind.TIMEOUT,
        ErrorKind.CONNECTION,
        ErrorKind.INCOMPLETE,
        ErrorKind.MALFORMED,
    }
)

# Kinds after which the *next* target is still worth trying: the failure is about this
# provider (its key, its model name, its health), not about the request itself.
FALLBACK_KINDS = RETRYABLE_KINDS | {
    ErrorKind.AUTH,
    ErrorKind.NOT_FOUND,
    ErrorKind.CIRCUIT_OPEN,
    ErrorKind.LIMIT_REACHED,
}

# Kinds the circuit breaker does not count as failures of the target: a provider's 429 says
# "not so fast", not "unhealthy" (the limiter holds the target instead), and a refusal by a
# configured limit sent nothing.
NOT_CIRCUIT_FAILURES = frozenset({ErrorKind.RATE_LIMIT, ErrorKind.LIMIT_REACHED})
