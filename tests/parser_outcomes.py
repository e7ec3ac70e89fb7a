"""What a provider stream gave, in a form the runs of two stream parsers are compared in."""

from __future__ import annotations

from typing import Any

from llm_dispatch.errors import ProviderError
from llm_dispatch.events import ProviderEvent


def outcome_of(events: list[ProviderEvent], error: ProviderError | None) -> dict[str, Any]:
    """The events, and the error's class, kind, message, status, Retry-After and
    retryability (None: the stream completed)."""
    failure = None
    if error is not None:
        failure = (
            type(error),
            error.kind,
            error.message,
            error.status_code,
            error.retry_after,
            error.is_retryable,
        )
    return {"events": events, "error": failure}
