"""A server-sent-events splitter: the bytes of an ``text/event-stream`` body in, events out.

:class:`SseSplitter` is fed the body's byte chunks as they arrive (split anywhere, even
inside a line or a UTF-8 character) and returns the events each chunk completes, as the
decoders of the OpenAI and Anthropic SDKs (the same code) do:

- lines end with ``\\r\\n``, ``\\n`` or ``\\r``; a blank line ends an event;
- ``data:`` lines are joined with ``\\n``, ``event:`` names the event, one space after the
  colon is dropped; a field written without a colon has an empty value; lines starting
  with ``:`` (comments) and fields of other names are ignored;
- a blank line makes an event only when the event has a name, a data line or a ``retry:``
  that is a number, or when the last ``id:`` (one without a NUL) was not empty: that id
  makes every blank line after it an event, if only of empty data; an empty name is None;
- an event whose blank line never came (the body stopped inside it) is not returned.

Nothing is decoded but the fields' values (UTF-8; invalid bytes raise
``UnicodeDecodeError``), and only once a line is complete: where the SDKs decode every line,
invalid bytes in a comment or an ignored field raise there, not here.

Nearly every event a server sends is plain: an optional ``event:`` line, one ``data:``
line and the blank line, each ending with ``\\n``. Between two events, a buffer without
``\\r`` is read a plain event at a time with one regular-expression match, the same
event its lines give; whatever follows is read line by line.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["ServerEvent", "SseSplitter"]


class ServerEvent(NamedTuple):
    """One event: its name (``event:``, None when it had none) and its data."""

    event: str | None
    data: str


# Builds a ServerEvent without the Python-level ``__new__`` a NamedTuple call goes through.
_event_of = tuple.__new__
# An event as servers write nearly every one: an optional ``event:`` line, one ``data:``
# line and the blank line, each line ending with "\n". Matched in a buffer without "\r"
# (``.`` is anything but "\n"), it is the event its lines would give one by one.
_PLAIN_EVENT = re.compile(rb"(?:event: ?(.*)\n)?data: ?(.*)\n\n")


class SseSplitter:
    """Splits one event-stream body into :class:`ServerEvent` s (see the module doc)."""

    def __init__(self) -> None:
        self._pending = b""
        # The last chunk ended with "\r": a "\n" that starts the next belongs to that line.
        self._after_cr = False
        # The event being read: its name (None: no event line yet), its data lines, and
        # whether it had a retry line that is a number.
        self._event: str | None = None
        self._data: list[bytes] = []
        self._retry = False
        # The last id line's value was not empty: every blank line then ends an event.
        self._has_id = False

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        """The events ``chunk`` completes, in order."""
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if not chunk:
            return []
        buffer = self._pending + chunk if self._pending else chunk
        events: list[ServerEvent] = []
        if self._event is None and not self._data and not self._retry and b"\r" not in buffer:
            # Between two events: the plain events the buffer starts with, a match each.
            start = 0
            while (match := _PLAIN_EVENT.match(buffer, start)) is not None:
                name, data = match.group(1, 2)
                event = name.decode() if name else None
                events.append(_event_of(ServerEvent, (event, data.decode())))
                start = match.end()
                if start == len(buffer):
                    self._pending = b""
                    return events
            if start:
                buffer = buffer[start:]
        if buffer[-1] == 0x0A:
            # Ends with "\n", as a chunk of whole events does: every line is complete.
            self._pending = b""
            self._lines(buffer.splitlines(), events)
            return events
        end = max(buffer.rfind(b"\n"), buffer.rfind(b"\r"))
        if end < 0:
            self._pending = buffer
            return events
        self._pending = buffer[end + 1 :]
        self._after_cr = not self._pending and buffer[end] == 0x0D
        self._lines(buffer[: end + 1].splitlines(), events)
        return events

    def _lines(self, lines: list[bytes], events: list[ServerEvent]) -> None:
        """Read whole lines, appending the events they complete to ``events``."""
        # The event being read, kept in locals while the lines are read.
        name, data, retry = self._event, self._data, self._retry
        for line in lines:
            if not line:
                if name or data or retry or self._has_id:
                    value = data[0] if len(data) == 1 else b"\n".join(data)
                    events.append(_event_of(ServerEvent, (name or None, value.decode())))
                name, data, retry = None, [], False
                continue
            if line.startswith(b"data:"):
                data.append(line[6:] if line.startswith(b" ", 5) else line[5:])
            elif line.startswith(b"event:"):
                name = (line[7:] if line.startswith(b" ", 6) else line[6:]).decode()
            elif not line.startswith(b":"):
                # Another field: "data" and "event" without a colon (empty values), "id",
                # "retry"; any other name is ignored.
                field, _, value = line.partition(b":")
                if value.startswith(b" "):
                    value = value[1:]
                if field == b"data":
                    data.append(value)
                elif field == b"event":
                    name = value.decode()
                elif field == b"id":
                    if b"\0" not in value:
                        self._has_id = bool(value)
                elif field == b"retry":
                    retry = _is_number(value.decode()) or retry
        self._event, self._data, self._retry = name, data, retry


def _is_number(text: str) -> bool:
    """Whether a retry line's value is a number (``int`` reads it)."""
    try:
        int(text)
    except ValueError:
        return False
    return True
