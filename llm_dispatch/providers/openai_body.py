"""The raw body of an OpenAI stream as server-sent events, read as the SDK's ``AsyncStream``
reads it; shared by the ``parser: fast`` readers of chat completions (:mod:`.openai_fast`)
and of the Responses API (:mod:`.openai_responses_fast`).

:func:`body_events` splits the bytes with :class:`~.sse.SseSplitter` and yields, for each
piece of the body read, the events it completed (a list, often of one). The failures are
the SDK's own, so that :meth:`~.sdk_errors.SdkErrorMapper.map_error` classifies them alike:

- a timeout while reading raises ``openai.APITimeoutError``, any other transport failure
  ``openai.APIConnectionError`` (a dropped connection), each with the request;
- an event whose data starts with ``[DONE]`` ends the events; the rest of the body is read
  (:func:`~.raw_body.drain`) so that the connection can be reused.

:func:`stream_error` is the ``openai.APIError`` the SDK raises for an event whose JSON
object has a truthy ``error``.

Bytes that are not UTF-8 raise ``UnicodeDecodeError`` (malformed) as in the SDK, with two
differences: the splitter decodes a field's value where the SDK decodes the whole line (the
error names another byte position), and events completed earlier in the same piece of the
body are not yielded before it.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from .raw_body import body_bytes, drain
from .sse import ServerEvent, SseSplitter

if TYPE_CHECKING:
    import openai

__all__ = ["body_events", "stream_error"]

_STREAM_ERROR = "An error occurred during streaming"


async def body_events(http: Any) -> AsyncGenerator[list[ServerEvent], None]:
    """The events of the body of ``http`` (an ``httpx2.Response`` whose body is unread), a
    list per piece read, up to ``[DONE]`` (see the module doc)."""
    body = body_bytes(http.aiter_bytes(), _read_failure(http.request))
    async with contextlib.aclosing(body):
        splitter = SseSplitter()
        async for raw in body:
            events = splitter.feed(raw)
            for position, event in enumerate(events):
                if event.data.startswith("[DONE]"):
                    if position:
                        yield events[:position]
                    await drain(body)
                    return
            if events:
                yield events


def stream_error(error: object, request: Any) -> openai.APIError:
    """The SDK's error for an event ``{"error": error}`` with a truthy ``error``: its
    message (else "An error occurred during streaming"), the error as its body."""
    import openai

    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message:
        message = _STREAM_ERROR
    return openai.APIError(message=message, request=request, body=error)


def _read_failure(request: Any) -> Callable[[Exception], BaseException | None]:
    """How the SDK raises a failure to read the body: a timeout as ``APITimeoutError``, a
    transport failure as ``APIConnectionError``, anything else as it is."""
    import anyio
    import httpx2
    import openai

    def translate(exc: Exception) -> BaseException | None:
        if isinstance(exc, httpx2.TimeoutException):
            return openai.APITimeoutError(request=request)
        if isinstance(exc, httpx2.RequestError | ssl.SSLError | anyio.EndOfStream):
            return openai.APIConnectionError(request=request)
        return None

    return translate
