"""``parser: fast`` for the Responses API: its events read from the raw HTTP body.

The SDK still builds and sends the request, authenticates, and raises its usual errors for
an HTTP error status (``responses.with_streaming_response.create`` enters only once the
status is a success). The body is then read here instead of through the SDK's
``AsyncStream``, which validates every event against the union of all its event types:
:func:`~.openai_body.body_events` splits it into server-sent events (raising the SDK's
transport errors, ending at ``data: [DONE]``) and each event's data is parsed with the
standard ``json`` module. :func:`fast_response_events` yields the JSON objects of the
events, for :meth:`~.openai_responses_reader.ResponsesReader.read_data`, in lists (one per
piece of the body read; the objects before a failing event are yielded before its error is
raised), exactly where the SDK hands on an event:

- data that is not JSON raises ``json.JSONDecodeError`` (malformed), whatever the event's
  name;
- an event named ``thread.*`` is skipped (the SDK wraps its data in an object with neither
  a ``type`` nor an ``error``), and so is data that is JSON but not an object (the SDK's
  event of it has no ``type``);
- an object with a truthy ``error`` raises ``openai.APIError``
  (:func:`~.openai_body.stream_error`);
- any other event name is ignored: the object's own ``type`` says what it is.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from .openai_body import body_events, stream_error
from .sse import ServerEvent

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["fast_response_events"]

# The SDK's prefix of Assistants events, whose data it does not hand on as it came.
_THREAD_EVENTS = "thread."


async def fast_response_events(
    client: AsyncOpenAI, kwargs: dict[str, Any]
) -> AsyncGenerator[list[dict[str, Any]], None]:
    """Send ``responses.create(**kwargs)`` (a streaming call) and yield the JSON objects of
    its answer's events, a list per piece of the body read (see the module doc)."""
    async with client.responses.with_streaming_response.create(**kwargs) as response:
        http = response.http_response
        events = body_events(http)
        async with contextlib.aclosing(events):
            async for batch in events:
                objects, failure = _objects(batch, http.request)
                if objects:
                    yield objects
                if failure is not None:
                    raise failure


def _objects(
    batch: list[ServerEvent], request: Any
) -> tuple[list[dict[str, Any]], Exception | None]:
    """The objects of ``batch`` the SDK hands on, up to the first event that fails, and
    that event's error (None: none failed)."""
    objects: list[dict[str, Any]] = []
    for event in batch:
        try:
            data = json.loads(event.data)
        except json.JSONDecodeError as exc:
            return objects, exc
        if not isinstance(data, dict) or (
            event.event is not None and event.event.startswith(_THREAD_EVENTS)
        ):
            continue
        error = data.get("error")
        if error:
            return objects, stream_error(error, request)
        objects.append(data)
    return objects, None
