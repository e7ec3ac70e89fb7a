"""What the fast stream parsers (``parser: fast``; :mod:`.openai_body` for both OpenAI APIs,
:mod:`.anthropic_fast`) share while they read a raw event-stream body themselves.

- :func:`body_bytes`: the body's byte chunks, a failure to read them raised as the SDK
  raises it while streaming (each SDK says how, through a ``translate`` function), so that
  the provider's error mapping classifies it alike;
- :func:`json_object`: one event's data parsed with the standard ``json`` module, an
  object or ``json.JSONDecodeError`` (malformed);
- :func:`drain`: the rest of a body after the stream's last event, read for at most
  :data:`DRAIN_SECONDS` so that the connection can be reused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

__all__ = ["DRAIN_SECONDS", "body_bytes", "drain", "json_object"]

#: How long the rest of a body after the stream's last event is read before it is dropped.
DRAIN_SECONDS = 1.0
_DECODER = json.JSONDecoder()


async def body_bytes(
    chunks: AsyncIterator[bytes], translate: Callable[[Exception], BaseException | None]
) -> AsyncGenerator[bytes, None]:
    """``chunks`` (the HTTP response's ``aiter_bytes()``, as the SDK reads it), where a
    failure to read the next chunk is raised as ``translate(failure)``, the failure as its
    cause, or as it is when ``translate`` gives None."""
    try:
        async for chunk in chunks:
            yield chunk
    except Exception as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from exc


def json_object(data: str) -> dict[str, Any]:
    """An event's data as a JSON object, what ``json.loads(data)`` gives; data that is not
    JSON, or JSON of anything but an object, raises ``json.JSONDecodeError``."""
    # ``raw_decode`` of data that is one JSON value and nothing else is ``json.loads``
    # without its checks around the value, which cost as much as the parsing of a small
    # event. Any other data (whitespace around the value, no value) goes to ``json.loads``,
    # which parses it or raises its own error.
    try:
        value, end = _DECODER.raw_decode(data)
    except json.JSONDecodeError:
        end = -1
    if end != len(data):
        value = json.loads(data)
    if type(value) is not dict:
        raise json.JSONDecodeError("an event's data is not a JSON object", data, 0)
    return value


async def drain(body: AsyncIterator[bytes]) -> None:
    """Read what follows the stream's last event; a failure there does not undo a complete
    answer."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in body:
                pass
