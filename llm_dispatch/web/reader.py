"""Reading Server-Sent Events, as a browser's ``EventSource`` does, for Python clients.

:func:`read_events` turns the bytes of an event-stream body, in chunks of any size, into
:class:`SSEEvent` s, following the HTML standard's parsing rules: lines end in CRLF, LF or
CR (a CR at the end of one chunk and an LF at the start of the next are one line break);
a line starting with ``:`` is a comment; one space after the colon is dropped; ``data``
lines are joined with ``"\\n"``; a blank line dispatches the event, unless its data is
empty; ``id`` persists from one event to the next.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

__all__ = ["SSEEvent", "read_events"]


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched event: its type (``message`` by default), data and last event id."""

    event: str
    data: str
    id: str


async def read_events(body: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """The events of ``body`` (an aiohttp ``response.content.iter_any()``, say)."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    parser = _Parser()
    pending = ""
    async for chunk in body:
        pending += decoder.decode(chunk)
        lines, pending = _complete_lines(pending)
        for line in lines:
            event = parser.feed(line)
            if event is not None:
                yield event
    # A last event without its blank line is not dispatched (as in a browser).


def _complete_lines(text: str) -> tuple[list[str], str]:
    """The complete lines of ``text`` and what follows the last line break. A CR at the very
    end waits: an LF may follow it in the next chunk."""
    lines: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\n" or (char == "\r" and i + 1 < len(text)):
            lines.append(text[start:i])
            i += 2 if char == "\r" and text[i + 1] == "\n" else 1
            start = i
        else:
            i += 1
    return lines, text[start:]


class _Parser:
    """The field-by-field state of the parser between two dispatched events."""

    def __init__(self) -> None:
        self.event = ""
        self.data: list[str] = []
        self.last_id = ""

    def feed(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self.event = value
        elif name == "data":
            self.data.append(value)
        elif name == "id" and "\x00" not in value:
            self.last_id = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, event = self.data, self.event
        self.data, self.event = [], ""
        if not data:
            return None
        return SSEEvent(event=event or "message", data="\n".join(data), id=self.last_id)
