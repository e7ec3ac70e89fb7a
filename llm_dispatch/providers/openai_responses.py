"""The OpenAI provider's second path: the Responses API, streamed with
``client.responses.create(stream=True)`` (the request: :mod:`.openai_responses_request`).

:class:`~.openai.OpenAIProvider` sends a model here when its ``api`` is ``responses``
(:mod:`.openai_apis`); the client, the error mapping, the redaction and the timeouts are
the chat path's.

What the stream is read for (every event is read by its ``type``: the SDK builds an event
of a type it does not know as some other event class, with that ``type`` kept):

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
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from ..errors import ErrorKind, ProviderError
from ..events import ProviderEvent, ToolCallDelta, Usage
from ..request import Request
from .base import Provider
from .classify import (
    incomplete_error,
    kind_for_labels,
    make_error,
    refine_bad_request,
    refusal_error,
)
from .openai_responses_request import responses_kwargs
from .stream_reading import close_quietly, normalise_finish_reason

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["stream_responses"]

_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
_CLOSING_EVENT = "a response.completed event"


async def stream_responses(
    provider: Provider, client: Callable[[], AsyncOpenAI], request: Request, model: str
) -> AsyncGenerator[ProviderEvent, None]:
    """Stream ``request`` on ``model`` through the Responses API of ``client()``, as the
    :class:`Provider` contract says (errors through ``provider.failure``)."""
    reader = _Reader(provider, model)
    sdk_stream = None
    failure: ProviderError | None = None
    try:
        kwargs = responses_kwargs(request, model, provider.settings)
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


class _Reader:
    """Turns the Responses stream's events into :class:`ProviderEvent` s, and remembers
    what the closing event needs."""

    def __init__(self, provider: Provider, model: str) -> None:
        self.provider = provider
        self.model = model
        self.chars = 0
        # The refusal's text, once a refusal delta came.
        self.refusal: str | None = None
        self.response: Any = None
        # Each call's arguments text so far, by call index; where each call is in the
        # output, by item id and by output index.
        self.arguments: list[str] = []
        self.by_item: dict[str, int] = {}
        self.by_output: dict[int, int] = {}
        # The reasoning part the last reasoning delta belonged to.
        self.reasoning_part: tuple[object, ...] | None = None

    def read(self, event: Any) -> list[ProviderEvent]:
        """The events ``event`` yields; raises the error of a failure event."""
        handler = _HANDLERS.get(str(getattr(event, "type", "")))
        return handler(self, event) if handler is not None else []

    # -- text and reasoning --

    def text(self, event: Any) -> list[ProviderEvent]:
        delta = event.delta or ""
        self.chars += len(delta)
        return [ProviderEvent(text=delta)] if delta else []

    def reasoning(self, event: Any) -> list[ProviderEvent]:
        delta = event.delta or ""
        if not delta:
            return []
        index = getattr(event, "summary_index", getattr(event, "content_index", None))
        part = (event.item_id, index)
        if self.reasoning_part is not None and part != self.reasoning_part:
            delta = "\n\n" + delta
        self.reasoning_part = part
        return [ProviderEvent(reasoning=delta)]

    def refusal_delta(self, event: Any) -> list[ProviderEvent]:
        self.refusal = (self.refusal or "") + (event.delta or "")
        return []

    # -- function calls --

    def item_added(self, event: Any) -> list[ProviderEvent]:
        item = event.item
        if getattr(item, "type", None) != "function_call":
            return []
        return [self._new_call(item, event.output_index)]

    def arguments_delta(self, event: Any) -> list[ProviderEvent]:
        index = self._call_of(event)
        if index is None:
            raise self._malformed("function_call_arguments.delta for a call never added")
        delta = event.delta or ""
        self.arguments[index] += delta
        return [ProviderEvent(tool_call=ToolCallDelta(index, arguments=delta))] if delta else []

    def arguments_done(self, event: Any) -> list[ProviderEvent]:
        index = self._call_of(event)
        if index is None:
            raise self._malformed("function_call_arguments.done for a call never added")
        return self._rest_of(index, getattr(event, "arguments", None))

    def item_done(self, event: Any) -> list[ProviderEvent]:
        item = event.item
        if getattr(item, "type", None) != "function_call":
            return []
        index = self._call_of(event, item_id=getattr(item, "id", None))
        if index is None:
            return [self._new_call(item, event.output_index)]
        return self._rest_of(index, getattr(item, "arguments", None))

    def _new_call(self, item: Any, output_index: int | None) -> ProviderEvent:
        """The first delta of a call: its index, id and name, and any arguments so far."""
        index = len(self.arguments)
        arguments = getattr(item, "arguments", None) or ""
        self.arguments.append(arguments)
        item_id = getattr(item, "id", None)
        if item_id:
            self.by_item[item_id] = index
        if output_index is not None:
            self.by_output[output_index] = index
        call = ToolCallDelta(
            index, id=getattr(item, "call_id", None) or None, name=item.name, arguments=arguments
        )
        return ProviderEvent(tool_call=call)

    def _call_of(self, event: Any, item_id: str | None = None) -> int | None:
        """The index of the call ``event`` is about."""
        item_id = item_id or getattr(event, "item_id", None)
        if item_id and item_id in self.by_item:
            return self.by_item[item_id]
        output_index = getattr(event, "output_index", None)
        return self.by_output.get(output_index) if isinstance(output_index, int) else None

    def _rest_of(self, index: int, whole: object) -> list[ProviderEvent]:
        """What a call's whole arguments text adds to the pieces already streamed."""
        sent = self.arguments[index]
        if not isinstance(whole, str) or len(whole) <= len(sent) or not whole.startswith(sent):
            return []
        rest = whole[len(sent) :]
        self.arguments[index] = whole
        return [ProviderEvent(tool_call=ToolCallDelta(index, arguments=rest))]

    # -- closing and failure events --

    def closing(self, event: Any) -> list[ProviderEvent]:
        self.response = event.response
        return []

    def failed(self, event: Any) -> list[ProviderEvent]:
        raise self._failure_of(event.response)

    def _failure_of(self, response: Any) -> ProviderError:
        """The error of a failed response: its ``error``'s code and type name the kind."""
        error = getattr(response, "error", None)
        return self._error(
            getattr(error, "message", None) or "the response failed",
            getattr(error, "code", None),
            getattr(error, "type", None),
        )

    def error_event(self, event: Any) -> list[ProviderEvent]:
        raise self._error(
            getattr(event, "message", None) or "the stream reported an error",
            getattr(event, "code", None),
        )

    def _error(self, message: str, *labels: object) -> ProviderError:
        kind = kind_for_labels(*labels) or ErrorKind.SERVER
        if kind is ErrorKind.BAD_REQUEST:
            kind = refine_bad_request(message)
        return make_error(self.provider, kind, message, self.model)

    def _malformed(self, what: str) -> ProviderError:
        return make_error(self.provider, ErrorKind.MALFORMED, f"the stream sent {what}", self.model)

    def finish(self) -> ProviderEvent:
        """The closing event's usage and finish reason; raises when there was none, or
        when it is a refusal."""
        provider, model, response = self.provider, self.model, self.response
        if response is None:
            raise incomplete_error(provider, model, _CLOSING_EVENT, self.chars)
        if getattr(response, "status", None) == "failed":
            raise self._failure_of(response)
        refusal = self.refusal if self.refusal is not None else _refusal_in(response)
        if refusal is not None:
            raise refusal_error(provider, model, "refusal", self.chars, refusal)
        finish = self._finish_reason(response)
        if finish == "content_filter":
            raise refusal_error(provider, model, "content_filter", self.chars)
        usage = getattr(response, "usage", None)
        return ProviderEvent(
            usage=_usage(usage) if usage is not None else None, finish_reason=finish
        )

    def _finish_reason(self, response: Any) -> str | None:
        if getattr(response, "status", None) == "incomplete":
            details = getattr(response, "incomplete_details", None)
            reason = getattr(details, "reason", None) or "incomplete"
            return normalise_finish_reason(reason, _INCOMPLETE_REASONS)
        return "tool_calls" if self.arguments else "stop"


_HANDLERS: dict[str, Callable[[_Reader, Any], list[ProviderEvent]]] = {
    "response.output_text.delta": _Reader.text,
    "response.reasoning_summary_text.delta": _Reader.reasoning,
    "response.reasoning_text.delta": _Reader.reasoning,
    "response.refusal.delta": _Reader.refusal_delta,
    "response.output_item.added": _Reader.item_added,
    "response.function_call_arguments.delta": _Reader.arguments_delta,
    "response.function_call_arguments.done": _Reader.arguments_done,
    "response.output_item.done": _Reader.item_done,
    "response.completed": _Reader.closing,
    "response.incomplete": _Reader.closing,
    "response.failed": _Reader.failed,
    "error": _Reader.error_event,
}


def _refusal_in(response: Any) -> str | None:
    """The text of the refusal parts in the response's output messages (None: it has
    none)."""
    found = [
        getattr(part, "refusal", None) or ""
        for item in getattr(response, "output", None) or ()
        if getattr(item, "type", None) == "message"
        for part in getattr(item, "content", None) or ()
        if getattr(part, "type", None) == "refusal"
    ]
    return " ".join(text for text in found if text) if found else None


def _usage(usage: Any) -> Usage:
    inputs = getattr(usage, "input_tokens_details", None)
    outputs = getattr(usage, "output_tokens_details", None)
    return Usage.of(
        _count(usage, "input_tokens"),
        _count(usage, "output_tokens"),
        reasoning=_count(outputs, "reasoning_tokens"),
        cached_input=_count(inputs, "cached_tokens"),
        cache_write=_count(inputs, "cache_write_tokens"),
    )


def _count(report: object, name: str) -> int:
    value = getattr(report, name, None)
    return value if isinstance(value, int) else 0
