"""Capturing the library's log events in tests, as dicts.

    with capture_events() as events:
        await answer("hi").collect()
    assert [e["event"] for e in events if e["log_level"] == "warning"] == [...]

Each dict is one record of an ``llm_dispatch.*`` logger: its ``event`` name, ``log_level``
(``debug`` … ``critical``), ``logger`` name, and every field the event was logged with.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["capture_events", "event_of"]

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "event"}


def event_of(record: logging.LogRecord) -> dict[str, Any]:
    """The event dict a library log record carries."""
    event: dict[str, Any] = {
        "event": getattr(record, "event", record.getMessage()),
        "log_level": record.levelname.lower(),
        "logger": record.name,
    }
    event.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD)
    if record.exc_info:
        event["exc_info"] = record.exc_info
    return event


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.events: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append(event_of(record))


@contextmanager
def capture_events(level: int = logging.DEBUG) -> Iterator[list[dict[str, Any]]]:
    """Collect every library event from ``level`` up while the block runs."""
    logger = logging.getLogger("llm_dispatch")
    collector = _Collector()
    previous = logger.level
    logger.addHandler(collector)
    logger.setLevel(level)
    try:
        yield collector.events
    finally:
        logger.removeHandler(collector)
        logger.setLevel(previous)
