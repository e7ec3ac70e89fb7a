"""A dispatch stream as Server-Sent Events: the body of a streamed HTTP response.

:func:`sse_events` iterates a :class:`~llm_dispatch.result.DispatchStream` and yields one
encoded event (``bytes``) per item, then one closing event:

- ``text``: a ``str`` chunk of an ``llm_stream`` call, as it is (each line a ``data:`` line);
- ``chunk``: a chunk dict of an ``llm_stream_with_metadata`` call, as JSON (every ``kind``:
  text, reasoning, tool_call, partial; the final dict too);
- ``done``: the stream completed: its status, finish reason, usage, cost and who answered;
- ``error``: the stream failed: the error's type, kind and message, and the text the
  client received before it.

Every event has an ``id``: its position in the response, from 0. Nothing else than these
fields goes out: an error's message is the library's own, already free of credentials (and
redacted again here); an exception from outside the library is reported without its text.

However the response ends (done, failed, or the client gone: the server cancels or closes
this generator), the dispatch stream is closed before the generator returns, which closes
the provider's HTTP stream.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from pydantic_core import to_jsonable_python

from ..error_kinds import ErrorKind
from ..errors import LLMDispatchError, ProviderError, StreamInterrupted, StreamTimeout
from ..log import get_logger
from ..redaction import redact
from ..result import DispatchStream
from .sse import encode_event

__all__ = ["done_payload", "error_payload", "sse_events"]

log = get_logger(__name__)

#: What an error event says of an exception from outside the library, whose text may quote
#: anything (the decorated body's own exceptions, a bug).
INTERNAL_ERROR = "internal_error"
INTERNAL_MESSAGE = "the server failed while streaming the answer"


async def sse_events(stream: DispatchStream[Any]) -> AsyncGenerator[bytes, None]:
    """``stream`` as Server-Sent Events, UTF-8 encoded (see the module docstring).

    For Starlette / FastAPI::

        return StreamingResponse(
            sse_events(ask(prompt)), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS
        )

    The stream must not have been iterated yet. A failure of the stream ends the events
    with an ``error`` event instead of an exception, so the response still ends cleanly;
    cancellation (a client that went away) is not a failure: it propagates.
    """
    number = 0

    def event(name: str, data: str) -> bytes:
        nonlocal number
        encoded = encode_event(data, event=name, id=str(number))
        number += 1
        return encoded.encode("utf-8", "replace")

    delivered: list[str] = []
    try:
        try:
            async for item in stream:
                if isinstance(item, str):
                    delivered.append(item)
                    yield event("text", item)
                else:
                    delivered.append(item["chunk"])
                    yield event("chunk", _json(item))
                # Chunks that arrived together are read without waiting for the network, so
                # the server would not get a turn to notice a client gone until they all
                # went out: give it one after each event.
                await asyncio.sleep(0)
        except Exception as exc:
            yield event("error", _json(error_payload(exc, "".join(delivered), stream)))
        else:
            yield event("done", _json(done_payload(stream)))
    finally:
        await stream.aclose()


def done_payload(stream: DispatchStream[Any]) -> dict[str, Any]:
    """The data of the ``done`` event of a completed ``stream``."""
    usage = stream.usage
    return {
        "status": "complete",
        "finish_reason": stream.finish_reason,
        "usage": usage.model_dump() if usage is not None else None,
        "cost_usd": stream.cost_usd,
        "provider": stream.provider,
        "model": stream.model,
        "request_id": stream.request_id,
        "duration_ms": round(stream.duration_ms, 1),
    }


def error_payload(exc: Exception, partial_text: str, stream: DispatchStream[Any]) -> dict[str, Any]:
    """The data of the ``error`` event for ``exc``, after ``partial_text`` was sent."""
    if isinstance(exc, LLMDispatchError):
        name, message = type(exc).__name__, redact(str(exc))
    else:
        # Not ours: its text is not known to be free of secrets. The server's log gets it.
        log.error(
            "web.stream_failed",
            request_id=stream.request_id,
            error_type=type(exc).__name__,
            exc_info=exc,
        )
        name, message = INTERNAL_ERROR, INTERNAL_MESSAGE
    kind = error_kind(exc)
    return {
        "status": "error",
        "error": name,
        "kind": kind.value if kind is not None else None,
        "message": message,
        "partial_text": partial_text,
        "request_id": stream.request_id,
    }


def error_kind(exc: BaseException) -> ErrorKind | None:
    """What kind of failure ``exc`` is: a provider error's kind, ``timeout`` for a deadline,
    an interruption's cause's kind; None when the library gives it none."""
    if isinstance(exc, StreamInterrupted):
        return error_kind(exc.cause)
    if isinstance(exc, ProviderError):
        return exc.kind
    if isinstance(exc, StreamTimeout):
        return ErrorKind.TIMEOUT
    return None


def _json(value: Any) -> str:
    """One line of JSON; values JSON has no type for (a date in a structured partial ...)
    in pydantic's JSON form."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=to_jsonable_python)
