"""``parser: fast``: the chunks of a chat-completions stream read from the raw HTTP body.

The SDK still builds and sends the request, authenticates, and raises its usual errors for
an HTTP error status (``with_streaming_response.create`` enters only once the status is a
success). The body is then read here instead of through the SDK's ``AsyncStream``, whose
per-chunk model building is most of a chunk's cost: the bytes are split into events by
:func:`~.openai_body.body_events` (which raises the SDK's transport errors and ends at
``data: [DONE]``) and each event's data parsed with the standard ``json`` module
(:func:`~.raw_body.json_object`).
:func:`fast_chat_chunks` yields each chunk's JSON object, for
:meth:`~.openai_chat_reader.ChatReader.read_data`.

The failures are the SDK's own, so that :meth:`~.sdk_errors.SdkErrorMapper.map_error`
classifies them alike:

- an event ``{"error": ...}`` with a truthy ``error`` raises ``openai.APIError``
  (:func:`~.openai_body.stream_error`);
- data that is not JSON raises ``json.JSONDecodeError`` (malformed);
- a timeout or a dropped connection while reading: see :mod:`.openai_body`.

One difference: data that is JSON but not an object (``[1]``, ``"x"``) raises
``json.JSONDecodeError`` here, where the SDK's chunk would fail later in the reader.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from .openai_body import body_events, stream_error
from .raw_body import json_object

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["fast_chat_chunks"]


async def fast_chat_chunks(
    client: AsyncOpenAI, kwargs: dict[str, Any]
) -> AsyncGenerator[dict[str, Any], None]:
    """Send ``chat.completions.create(**kwargs)`` (a streaming call) and yield the JSON
    object of each chunk of its answer (see the module doc)."""
    async with client.chat.completions.with_streaming_response.create(**kwargs) as response:
        http = response.http_response
        events = body_events(http)
        async with contextlib.aclosing(events):
            async for batch in events:
                for event in batch:
                    data = json_object(event.data)
                    error = data.get("error")
                    if error:
                        raise stream_error(error, http.request)
                    yield data
