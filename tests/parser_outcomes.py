"""What a provider stream gave, in a form the runs of two stream parsers are compared in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


async def both_parsers(
    run: Callable[[str], Awaitable[dict[str, Any]]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The outcomes of ``run("sdk")`` and ``run("fast")``: the same stream read by the SDK,
    then by the fast parser."""
    return await run("sdk"), await run("fast")


def assert_alike(sdk: dict[str, Any], fast: dict[str, Any]) -> None:
    """Both parsers gave the same events and the same error, and the stream gave one or
    the other."""
    assert fast == sdk
    assert sdk["events"] or sdk["error"], "the stream gave neither events nor an error"


async def assert_script_alike(
    fake_server: Any, script: Any, run: Callable[[str], Awaitable[dict[str, Any]]]
) -> None:
    """``script`` served to each parser in turn gives the same outcome."""
    fake_server.enqueue(script)
    fake_server.enqueue(script)
    assert_alike(*await both_parsers(run))
