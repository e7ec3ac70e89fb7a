"""The library's logging: structured events through the standard :mod:`logging` module.

Every module logs through ``get_logger(__name__)``, so each logger is named after its module
(``llm_dispatch.stages.log`` for the stream's own events, ``llm_dispatch.cache.streaming_cache``
...), all under ``llm_dispatch``. Events are structlog-style (an event name and keyword
fields) and travel as ordinary :class:`logging.LogRecord`s:

- ``record.getMessage()`` is the event and its fields on one line (``stream.start
  request_id=3f2a… targets=['openai/gpt-4o-mini']``), for plain ``logging`` set-ups;
- ``record.event`` is the event name and every field is an attribute of the record
  (``record.request_id``), for structured handlers: structlog's ``ProcessorFormatter`` with
  ``structlog.stdlib.ExtraAdder()`` in its ``foreign_pre_chain`` gets the event dict back
  with its keys, a JSON formatter can read ``record.__dict__``.

Nothing here configures logging. With no configuration, Python's last-resort handler prints
WARNING and above to stderr and drops the rest; the library never writes to stdout.
:func:`log_to_stderr` is for command-line entry points. :class:`Throttle` keeps a warning that
would repeat on every call (a cache backend that is down) to one line per interval, with a
count of the ones it held back.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structlog.stdlib import BoundLogger
    from structlog.typing import EventDict, Processor

__all__ = ["Throttle", "get_logger", "log_to_stderr"]

ROOT = "llm_dispatch"

# Attributes a LogRecord already has: a field of the same name gets a trailing underscore.
_RESERVED = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_LOG_KWARGS = ("exc_info", "stack_info")


class _Line:
    """The one-line rendering of an event, built only if a handler formats the record."""

    __slots__ = ("event", "fields")

    def __init__(self, event: str, fields: Mapping[str, Any]) -> None:
        self.event = event
        self.fields = fields

    def __str__(self) -> str:
        parts = [self.event]
        for key, value in self.fields.items():
            if value is None:
                continue
            text = value if isinstance(value, str) and value and " " not in value else repr(value)
            parts.append(f"{key}={text}")
        return " ".join(parts)


def _to_record(
    _logger: Any, _method: str, event_dict: EventDict
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The last processor: the event as the arguments of a stdlib logging call."""
    event = str(event_dict.pop("event", ""))
    kwargs: dict[str, Any] = {k: event_dict.pop(k) for k in _LOG_KWARGS if k in event_dict}
    # Attribute the record to the library code that logged, not to structlog's frames
    # (nor to a helper such as Throttle, which says how many frames it adds).
    kwargs["stacklevel"] = 4 + int(event_dict.pop("_helper_frames", 0))
    extra = {f"{k}_" if k in _RESERVED else k: v for k, v in event_dict.items()}
    extra["event"] = event
    kwargs["extra"] = extra
    return ("%s", _Line(event, event_dict)), kwargs


# The level of each logging method, as structlog's ``filter_by_level`` reads it.
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
    "fatal": logging.CRITICAL,
}


def _dropped(*_args: Any, **_kwargs: Any) -> None:
    """What a logging method of a level the stdlib logger does not log does (returns None)."""


def _wrap(stdlib: logging.Logger) -> BoundLogger:
    import structlog
    from structlog.stdlib import BoundLogger

    processors: list[Processor] = [structlog.stdlib.filter_by_level, _to_record]
    logger: BoundLogger = structlog.wrap_logger(
        stdlib,
        processors=processors,
        wrapper_class=BoundLogger,
        context_class=dict,
        cache_logger_on_first_use=True,
    )
    return logger


class _Logger:
    """A module's logger: the structlog logger is made when the module first logs an event
    its stdlib logger lets through.

    Importing structlog costs about 50 ms (it imports its console renderer, and rich with it
    when rich is installed), so the library does not import it until then. An event of a
    level the stdlib logger is not enabled for is dropped here: through structlog it would
    reach that logger, which would drop it. Every other attribute comes from the structlog
    logger through ``__getattr__``, so a logging call adds no frame (the record still points
    at the library's code).
    """

    __slots__ = ("_bound", "_stdlib")

    def __init__(self, stdlib: logging.Logger) -> None:
        self._stdlib = stdlib
        self._bound: BoundLogger | None = None

    def __getattr__(self, attr: str) -> Any:
        level = _LEVELS.get(attr)
        if level is not None and not self._stdlib.isEnabledFor(level):
            return _dropped
        bound = self._bound
        if bound is None:
            bound = self._bound = _wrap(self._stdlib)
        return getattr(bound, attr)


def get_logger(name: str = ROOT) -> BoundLogger:
    """A structlog logger bound to the stdlib logger ``name`` (under ``llm_dispatch``).

    Independent of the application's ``structlog.configure``: the library's events always go
    to :mod:`logging`, where the application decides what to do with them. structlog is
    imported when the logger first logs an event that its level lets through.
    """
    if name != ROOT and not name.startswith(ROOT + "."):
        name = f"{ROOT}.{name}"
    logger: BoundLogger = _Logger(logging.getLogger(name))  # type: ignore[assignment]
    return logger


def log_to_stderr(level: int = logging.WARNING) -> None:
    """Show the library's events from ``level`` up on stderr (for command-line tools).

    Adds one stderr handler to the ``llm_dispatch`` logger (once) and sets its level; the
    records still propagate to any handler the application configured on the root logger.
    """
    logger = logging.getLogger(ROOT)
    handler = next((h for h in logger.handlers if getattr(h, "_llm_dispatch_cli", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
        handler._llm_dispatch_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    handler.setLevel(level)
    logger.setLevel(level)


class Throttle:
    """Logs an event at most once per ``interval`` seconds per key.

    The first occurrence is logged at once; repeats within the interval are counted, and the
    next line logged for that key carries ``suppressed=N``. One instance per kind of
    trouble (one cache, one circuit breaker), so one noisy source cannot hide another.
    """

    def __init__(self, interval: float = 60.0, *, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self._state: dict[str, tuple[float, int]] = {}

    def __call__(self, log: Callable[..., Any], key: str, event: str, **fields: Any) -> bool:
        """Call ``log(event, **fields)`` unless ``key`` was logged within the interval;
        True when it was logged."""
        now = self.clock()
        state = self._state.get(key)
        if state is not None and now - state[0] < self.interval:
            self._state[key] = (state[0], state[1] + 1)
            return False
        held = state[1] if state is not None else 0
        self._state[key] = (now, 0)
        if held:
            fields["suppressed"] = held
        log(event, _helper_frames=1, **fields)
        return True

    def suppressed(self, key: str) -> int:
        """How many events of ``key`` were held back since its last logged one."""
        state = self._state.get(key)
        return state[1] if state is not None else 0
