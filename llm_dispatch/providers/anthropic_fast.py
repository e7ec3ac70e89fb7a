"""``parser: fast``: the events of an Anthropic messages stream read from the raw HTTP body.

The SDK still builds and sends the request, authenticates, and raises its usual errors for
an HTTP error status (``messages.with_streaming_response.create`` enters only once the
status is a success). The body is then read here instead of through the SDK's
``AsyncStream``, whose per-event model building is most of an event's cost: the bytes are
split into events by :class:`~.sse.SseSplitter` and each event's data parsed with the
standard ``json`` module. :func:`fast_message_events` yields each event's JSON object, for
:meth:`~.anthropic_reader.MessageReader.read_data`.

Events are sorted as the SDK sorts them, by their SSE event name: an event without a name
and a ``ping`` are skipped, an ``error`` is raised, an event without data is skipped, and
any other event's data is the event (its ``type`` field, not its name, says what it is).
The failures are the SDK's own, so that :meth:`~.sdk_errors.SdkErrorMapper.map_error`
classifies them alike:

- an ``error`` event raises the ``APIStatusError`` the SDK builds from its data (the JSON
  body, else the text), of the class the stream's status and the error's code select:
  ``overloaded_error`` is then the kind ``overloaded``, ``rate_limit_error`` ``rate_limit``
  and so on, by the error's ``type``;
- data that is not JSON raises ``json.JSONDecodeError`` (malformed);
- a timeout while reading raises ``anthropic.APITimeoutError``, any other failure to read
  ``anthropic.APIConnectionError`` (a dropped connection), with the SDK's own messages.

``message_stop`` ends the stream: the rest of the body is read (at most
:data:`~.raw_body.DRAIN_SECONDS`) so that the connection can be reused, but not parsed.
The SDK reads on to the body's end, and would yield (or raise) whatever came after it.

One more difference: data that is JSON but not an object (``[1]``, ``null``) raises
``json.JSONDecodeError`` here, where the SDK hands it on and the reader then fails on it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from .raw_body import body_bytes, drain, json_object
from .sse import SseSplitter

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["fast_message_events"]


async def fast_message_events(
    client: AsyncAnthropic, kwargs: dict[str, Any]
) -> AsyncGenerator[dict[str, Any], None]:
    """Send ``messages.create(**kwargs)`` (a streaming call) and yield the JSON object of
    each event of its answer, up to ``message_stop`` (see the module doc)."""
    async with client.messages.with_streaming_response.create(**kwargs) as response:
        http = response.http_response
        body = body_bytes(http.aiter_bytes(), _read_failure(client, http.request))
        async with contextlib.aclosing(body):
            splitter = SseSplitter()
            async for raw in body:
                for name, text in splitter.feed(raw):
                    if not name or name == "ping":
                        continue
                    if name == "error":
                        raise _error_event(client, http, text)
                    if not text:
                        continue
                    data = json_object(text)
                    yield data
                    if data.get("type") == "message_stop":
                        await drain(body)
                        return


def _error_event(client: AsyncAnthropic, http: Any, data: str) -> Exception:
    """The exception the SDK raises for an ``error`` event of data ``data``."""
    body: object = data
    try:
        body = json.loads(data)
        message = f"{body}"
    except Exception:
        message = data or f"Error code: {http.status_code}"
    error: Exception = client._make_status_error(message, body=body, response=http)
    return error


def _read_failure(client: AsyncAnthropic, request: Any) -> Callable[[Exception], Exception | None]:
    """How the SDK raises a failure to read the body: its own errors as they are, a timeout
    as ``APITimeoutError``, anything else as ``APIConnectionError``."""
    import anthropic
    import httpx2

    def translate(exc: Exception) -> Exception | None:
        if isinstance(exc, anthropic.AnthropicError):
            return None
        if isinstance(exc, httpx2.TimeoutException):
            return client._make_timeout_error(request, exc)
        return client._make_connection_error(request, exc)

    return translate
