"""The OpenAI provider's second path: the Responses API, streamed with
``client.responses.create(stream=True)`` (the request: :mod:`.openai_responses_request`).

:class:`~.openai.OpenAIProvider` sends a model here when its ``api`` is ``responses``
(:mod:`.openai_apis`); the client, the error mapping, the redaction and the timeouts are
the chat path's, and so is the ``parser`` setting (``fast`` unless set): ``sdk`` iterates the SDK's
``AsyncStream`` of ``ResponseStreamEvent`` s; ``fast`` lets the SDK send the request and
raise for an error status, then splits and parses the raw body itself
(:mod:`.openai_responses_fast`), for the same events and errors at a fraction of the CPU
per event. Either way :class:`~.openai_responses_reader.ResponsesReader` reads the events.

What the stream is read for (every event is read by its ``type``: the SDK builds an event
of a type it does not know as some other event class, with that ``type`` kept; an event
whose data is JSON but not an object, or that is named ``thread.*``, has none):

- ``response.output_text.delta``: text;
- ``response.reasoning_summary_text.delta`` and ``response.reasoning_text.delta``:
  reasoning (a new summary part after earlier reasoning starts with a blank line);
- ``response.output_item.added`` of a ``function_call`` item: the call's first
  ``ToolCallDelta``, with its index among this answer's calls, its ``call_id`` and name;
- ``response.function_call_arguments.delta``: the next piece of that call's arguments (the
  call found by ``item_id``, else ``output_index``);
- ``response.function_call_arguments.done`` and ``response.output_item.done``: the rest of
  the arguments, if the deltas left some out (a call that only ``output_item.done`` tells
  of is a new call);
- ``response.refusal.delta``: the refusal's text, for the error;
- ``response.completed`` and ``response.incomplete``: the closing event, with the usage and
  what the finish reason is read from;
- ``response.failed`` and ``error``: the :class:`ProviderError` their error code (and type)
  name, else ``server``.

The finish reason: a refusal (``refusal`` deltas or parts) or ``incomplete_details.reason
== "content_filter"`` raises ``ContentFilterError`` after the text delivered; ``status:
"incomplete"`` with reason ``max_output_tokens`` is ``length``; an answer that made function
calls is ``tool_calls``; else ``stop``. A body that ends without a closing event raises
``IncompleteStreamError``. Usage: ``input_tokens`` (cache reads and writes included) and
``output_tokens`` (reasoning included), with ``input_tokens_details.cached_tokens`` /
``cache_write_tokens`` and ``output_tokens_details.reasoning_tokens``.

Whoever reads the body, it is read to its end (or to ``data: [DONE]``, which the API does
not send but the SDK honours): an error or a dropped connection after the closing event
still fails the stream. An event whose JSON object has a truthy ``error`` at its top level
is raised as the SDK raises it (an ``APIError``, classified by its type and code).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import TYPE_CHECKING

from ..errors import ProviderError
from ..events import ProviderEvent
from ..request import Request
from .base import Provider
from .openai_responses_fast import fast_response_events
from .openai_responses_reader import ResponsesReader
from .openai_responses_request import responses_kwargs
from .stream_reading import close_quietly

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["stream_responses"]


async def stream_responses(
    provider: Provider, client: Callable[[], AsyncOpenAI], request: Request, model: str
) -> AsyncGenerator[ProviderEvent, None]:
    """Stream ``request`` on ``model`` through the Responses API of ``client()``, read by
    the provider's ``parser``, as the :class:`Provider` contract says (errors through
    ``provider.failure``)."""
    reader = ResponsesReader(provider, model)
    sdk_stream = None
    failure: ProviderError | None = None
    try:
        kwargs = responses_kwargs(request, model, provider.settings)
        if provider.settings.parser == "fast":
            # The raw body, split and parsed here (see providers/openai_responses_fast.py).
            async with aclosing(fast_response_events(client(), kwargs)) as batches:
                async for batch in batches:
                    for data in batch:
                        for out in reader.read_data(data):
                            yield out
        else:
            sdk_stream = await client().responses.create(**kwargs)
            async for event in sdk_stream:
                for out in reader.read(event):
                    yield out
    except Exception as exc:
        failure = provider.failure(exc, model, request)
    finally:
        if sdk_stream is not None:
            await close_quietly(sdk_stream.close)
    if failure is not None:
        raise failure
    yield reader.finish()
