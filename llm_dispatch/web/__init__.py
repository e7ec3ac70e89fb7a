"""Streaming answers to a browser: a dispatch stream as Server-Sent Events.

No web framework is imported: :func:`sse_events` yields the bytes of the response body,
for Starlette / FastAPI's ``StreamingResponse``, aiohttp's ``StreamResponse`` or any server
that sends an async iterator of bytes; :func:`read_events` reads such a body back, for
Python clients. See docs/web.md.
"""

from .reader import SSEEvent, read_events
from .sse import SSE_HEADERS, SSE_MEDIA_TYPE, encode_event
from .stream import done_payload, error_payload, sse_events

__all__ = [
    "SSE_HEADERS",
    "SSE_MEDIA_TYPE",
    "SSEEvent",
    "done_payload",
    "encode_event",
    "error_payload",
    "read_events",
    "sse_events",
]
