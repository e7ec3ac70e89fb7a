"""``parser: fast``: the chunks of a chat-completions stream read from the raw HTTP body.

The SDK still builds and sends the request, authenticates, and raises its usual errors for
an HTTP error status (``with_streaming_response.create`` enters only once the status is a
success). The body is then read here instead of through the SDK's ``AsyncStream``, whose
per-chunk model building is most of a chunk's cost: the bytes are split into events by
:class:`~.sse.SseSplitter` and each event's data parsed with the standard ``json`` module.
:func:`fast_chat_chunks` yields each chunk's JSON object, for
:meth:`~.openai_chat_reader.ChatReader.read_data`.

The failures are the SDK's own, so that :meth:`~.sdk_errors.SdkErrorMapper.map_error`
classifies them alike:

- an event ``{"error": ...}`` with a truthy ``error`` raises ``openai.APIError`` with the
  error's message (else "An error occurred during streaming") and the error as its body;
- data that is not JSON raises ``json.JSONDecodeError`` (malformed);
- a timeout while reading raises ``openai.APITimeoutError``, any other transport failure
  ``openai.APIConnectionError`` (a dropped connection);
- ``data: [DONE]`` ends the stream; the rest of the body is read (at most
  :data:`~.raw_body.DRAIN_SECONDS`) so that the connection can be reused.

One difference: data that is JSON but not an object (``[1]``, ``"x"``) raises
``json.JSONDecodeError`` here, where the SDK's chunk would fail later in the reader.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from .raw_body import body_bytes, drain, json_object
from .sse import SseSplitter

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["fast_chat_chunks"]

_STREAM_ERROR = "An error occurred during streaming"


async def fast_chat_chunks(
    client: AsyncOpenAI, kwargs: dict[str, Any]
) -> AsyncGenerator[dict[str, Any], None]:
    """Send ``chat.completions.create(**kwargs)`` (a streaming call) and yield the JSON
    object of each chunk of its answer (see the module doc)."""
    import openai

    async with client.chat.completions.with_streaming_response.create(**kwargs) as response:
        http = response.http_response
        body = body_bytes(http.aiter_bytes(), _read_failure(http.request))
        async with contextlib.aclosing(body):
            splitter = SseSplitter()
            async for raw in body:
                for event in splitter.feed(raw):
                    if event.data.startswith("[DONE]"):
                        await drain(body)
                        return
                    data = json_object(event.data)
                    error = data.get("error")
                    if error:
                        raise openai.APIError(
                            message=_error_message(error), request=http.request, body=error
                        )
                    yield data


def _error_message(error: object) -> str:
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else _STREAM_ERROR


def _read_failure(request: Any) -> Callable[[Exception], Exception | None]:
    """How the SDK raises a failure to read the body: a timeout as ``APITimeoutError``, a
    transport failure as ``APIConnectionError``, anything else as it is."""
    import anyio
    import httpx2
    import openai

    def translate(exc: Exception) -> Exception | None:
        if isinstance(exc, httpx2.TimeoutException):
            return openai.APITimeoutError(request=request)
        if isinstance(exc, httpx2.RequestError | ssl.SSLError | anyio.EndOfStream):
            return openai.APIConnectionError(request=request)
        return None

    return translate
