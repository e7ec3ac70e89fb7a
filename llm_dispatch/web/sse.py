"""The Server-Sent Events wire format: one event as the text a response body carries.

An event is a block of ``field: value`` lines ended by a blank line (the HTML standard's
"Server-sent events" section). A value cannot hold a line break, so :func:`encode_event`
writes each line of the data as a ``data:`` line of its own; the browser's ``EventSource``
joins them back with ``"\\n"``. A carriage return, alone or before a line feed, is a line
break to the parser too: the data arrives with ``"\\n"`` in its place.
"""

from __future__ import annotations

import re

__all__ = ["SSE_HEADERS", "SSE_MEDIA_TYPE", "encode_event"]

#: The media type of an event stream.
SSE_MEDIA_TYPE = "text/event-stream"

#: Headers for a streamed response: no cache may keep it, no proxy may hold it back in a
#: buffer (``X-Accel-Buffering`` is nginx's switch).
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD_VALUE = re.compile(r"[^\r\n\x00]*")


def encode_event(data: str, *, event: str | None = None, id: str | None = None) -> str:
    """One event: an ``event:`` line (the type a listener subscribes to; None for the
    default ``message``), an ``id:`` line, a ``data:`` line per line of ``data``, and the
    blank line that dispatches it.

    The space after each colon is always written: the parser removes exactly one, so data
    that starts with a space keeps it. Empty ``data`` is one empty ``data:`` line: the
    event is still dispatched, with ``""`` as its data.
    """
    lines = []
    if event is not None:
        lines.append(f"event: {_field_value('event', event)}")
    if id is not None:
        lines.append(f"id: {_field_value('id', id)}")
    lines.extend(f"data: {line}" for line in _LINE_BREAK.split(data))
    return "\n".join(lines) + "\n\n"


def _field_value(name: str, value: str) -> str:
    if not _FIELD_VALUE.fullmatch(value):
        raise ValueError(f"an SSE {name} cannot hold a line break or NUL: {value!r}")
    return value
