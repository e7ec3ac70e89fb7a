"""What the SDK providers share while reading a stream: finish reasons in this library's
vocabulary, running token counts, and releasing the SDK's stream."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping

__all__ = ["close_quietly", "normalise_finish_reason", "update_counts"]


def normalise_finish_reason(raw: object, table: Mapping[str, str]) -> str | None:
    """The provider's finish reason in our vocabulary (stop, length, content_filter,
    tool_calls), or passed through in lowercase when the table does not know it."""
    if raw is None:
        return None
    key = str(getattr(raw, "value", raw)).lower()
    return table.get(key, key) if key else None


def update_counts(counts: dict[str, int], report: object, names: tuple[str, ...]) -> None:
    """Copy the token counts ``names`` of a usage ``report`` (an SDK object, its JSON
    object, or None) into ``counts``.

    Providers report running totals, so a count replaces the one before it; a count the
    report leaves out (absent, null or not a number) keeps its earlier value.
    """
    for name in names:
        value = report.get(name) if isinstance(report, dict) else getattr(report, name, None)
        if isinstance(value, int):
            counts[name] = value


async def close_quietly(close: Callable[[], Awaitable[object]]) -> None:
    """Release an SDK stream without letting a failure to release hide why we are closing."""
    # The connection is being dropped either way; an error here would mask the real outcome.
    with contextlib.suppress(Exception):
        await close()
