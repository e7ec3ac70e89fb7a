"""Searching every output of a failure for secrets: an exception's message, repr, formatted
traceback with its whole chain and the attributes of every exception in it, and captured log
records. Shared by test_secrets.py and the ``secret_canary`` fixture (conftest.py)."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from typing import Any


def chain(exc: BaseException) -> Iterator[BaseException]:
    """Every exception reachable from ``exc`` through causes and contexts."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        todo.extend(e for e in vars(current).values() if isinstance(e, BaseException))


def outputs_of(exc: BaseException) -> str:
    """Everything ``exc`` can show: its traceback, and each chained exception's str, repr,
    args and attributes."""
    parts = ["".join(traceback.format_exception(exc))]
    for item in chain(exc):
        parts += [str(item), repr(item), repr(item.args), repr(vars(item))]
    return "\n".join(parts)


def rendered(events: list[dict[str, Any]]) -> str:
    """Captured log events (``capture_events``) as text, with their exceptions' outputs."""
    parts = []
    for event in events:
        parts.append(repr(event))
        exc_info = event.get("exc_info")
        if exc_info:
            parts.append(outputs_of(exc_info[1]))
    return "\n".join(parts)


def found_in(text: str, canaries: Iterable[str]) -> list[str]:
    """The canaries ``text`` contains."""
    return [c for c in canaries if c in text]
