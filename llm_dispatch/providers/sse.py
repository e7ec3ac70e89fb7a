"""A server-sent-events splitter: the bytes of an ``text/event-stream`` body in, events out.

:class:`SseSplitter` is fed the body's byte chunks as they arrive (split anywhere, even
inside a line or a UTF-8 character) and returns the events each chunk completes, as the
OpenAI SDK's own decoder does:

- lines end with ``\\r\\n``, ``\\n`` or ``\\r``; a blank line ends an event;
- ``data:`` lines are joined with ``\\n``, ``event:`` names the event, one space after the
  colon is dropped; ``id:`` and ``retry:`` lines make an event without changing its data;
  lines starting with ``:`` (comments) and other fields are ignored;
- an event whose blank line never came (the body stopped inside it) is not returned.

Nothing is decoded but the fields' values (UTF-8; invalid bytes raise
``UnicodeDecodeError``), and only once a line is complete.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ServerEvent", "SseSplitter"]


class ServerEvent(NamedTuple):
    """One event: its name (``event:``, None when it had none) and its data."""

    event: str | None
    data: str


class SseSplitter:
    """Splits one event-stream body into :class:`ServerEvent` s (see the module doc)."""

    def __init__(self) -> None:
        self._pending = b""
        # The last chunk ended with "\r": a "\n" that starts the next belongs to that line.
        self._after_cr = False
        self._event: str | None = None
        self._data: list[bytes] = []
        self._started = False

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        """The events ``chunk`` completes, in order."""
        if self._after_cr and chunk:
            self._after_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if not chunk:
            return []
        buffer = self._pending + chunk if self._pending else chunk
        end = max(buffer.rfind(b"\n"), buffer.rfind(b"\r"))
        if end < 0:
            self._pending = buffer
            return []
        self._pending = buffer[end + 1 :]
        self._after_cr = not self._pending and buffer[end] == 0x0D
        return self._lines(buffer[: end + 1].splitlines())

    def _lines(self, lines: list[bytes]) -> list[ServerEvent]:
        events: list[ServerEvent] = []
        for line in lines:
            if not line:
                if self._started:
                    data = b"\n".join(self._data).decode()
                    events.append(ServerEvent(self._event, data))
                    self._event, self._data, self._started = None, [], False
                continue
            if line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
                self._started = True
            elif line.startswith(b":"):
                continue
            else:
                self._field(line)
        return events

    def _field(self, line: bytes) -> None:
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"event":
            self._event = value.decode()
            self._started = True
        elif name in (b"id", b"retry"):
            self._started = True
