"""The events of one OpenAI Responses API stream as :class:`ProviderEvent` s.

An event arrives in one of two forms, read by the same rules (those of
:mod:`.openai_responses`' docstring): the SDK's ``ResponseStreamEvent`` (``parser: sdk``,
:meth:`ResponsesReader.read`) or the event's JSON object as parsed from the raw body
(``parser: fast``, :meth:`ResponsesReader.read_data`, see :mod:`.openai_responses_fast`).

Every field is read through :func:`_field`: a JSON object's key, or an SDK object's
attribute. The two agree because of how the SDK builds an event: a declared field the
event left out is None (as a missing key is), and where the event does not validate the
SDK keeps the values as sent (so a value of the wrong JSON type reaches both forms as it
is). The reader reads no field of a value the SDK leaves untyped, where the two would part.
They can part in one case: an event that validates only once pydantic coerces a value (a
numeric string such as ``"3"`` in an integer field like ``output_index`` or a token count)
reaches :meth:`~ResponsesReader.read` coerced and :meth:`~ResponsesReader.read_data` as
sent, where a value of the wrong type counts as absent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ErrorKind, ProviderError
from ..events import ProviderEvent, ToolCallDelta, Usage
from .base import Provider
from .classify import (
    incomplete_error,
    kind_for_labels,
    make_error,
    refine_bad_request,
    refusal_error,
)
from .stream_reading import normalise_finish_reason

__all__ = ["ResponsesReader"]

_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
_CLOSING_EVENT = "a response.completed event"
_TEXT_DELTA = "response.output_text.delta"
_SUMMARY_DELTA = "response.reasoning_summary_text.delta"


def _field(value: object, name: str) -> Any:
    """Field ``name`` of a JSON object or an SDK object (None: it has none)."""
    if isinstance(value, dict):
        return value.get(name)
    return getattr(value, name, None)


class ResponsesReader:
    """Turns the Responses stream's events into :class:`ProviderEvent` s, and remembers
    what the closing event needs."""

    def __init__(self, provider: Provider, model: str) -> None:
        self.provider = provider
        self.model = model
        self.chars = 0
        # The refusal's text, once a refusal delta came.
        self.refusal: str | None = None
        # The response of the closing event (an SDK object or a JSON object).
        self.response: Any = None
        # Each call's arguments text so far, by call index; where each call is in the
        # output, by item id and by output index.
        self.arguments: list[str] = []
        self.by_item: dict[str, int] = {}
        self.by_output: dict[int, int] = {}
        # The reasoning part the last reasoning delta belonged to.
        self.reasoning_part: tuple[object, ...] | None = None

    def read(self, event: Any) -> list[ProviderEvent]:
        """The events an SDK event yields; raises the error of a failure event."""
        handler = _HANDLERS.get(str(getattr(event, "type", "")))
        return handler(self, event) if handler is not None else []

    def read_data(self, data: dict[str, Any]) -> list[ProviderEvent]:
        """The events of one event's JSON object, exactly as :meth:`read` gives them for the
        SDK's event of the same object."""
        kind = data.get("type")
        if kind == _TEXT_DELTA:
            # The common event, read here without the handler's generic field access.
            delta = data.get("delta")
            if not delta:
                return []
            self.chars += len(delta)
            return [ProviderEvent(text=delta)]
        handler = _HANDLERS.get(kind if isinstance(kind, str) else str(kind))
        return handler(self, data) if handler is not None else []

    # -- text and reasoning --

    def text(self, event: Any) -> list[ProviderEvent]:
        delta = _field(event, "delta") or ""
        self.chars += len(delta)
        return [ProviderEvent(text=delta)] if delta else []

    def reasoning(self, event: Any) -> list[ProviderEvent]:
        delta = _field(event, "delta") or ""
        if not delta:
            return []
        index = _index_of(event)
        part = (_field(event, "item_id"), index)
        if self.reasoning_part is not None and part != self.reasoning_part:
            delta = "\n\n" + delta
        self.reasoning_part = part
        return [ProviderEvent(reasoning=delta)]

    def refusal_delta(self, event: Any) -> list[ProviderEvent]:
        self.refusal = (self.refusal or "") + (_field(event, "delta") or "")
        return []

    # -- function calls --

    def item_added(self, event: Any) -> list[ProviderEvent]:
        item = _field(event, "item")
        if _field(item, "type") != "function_call":
            return []
        return [self._new_call(item, _field(event, "output_index"))]

    def arguments_delta(self, event: Any) -> list[ProviderEvent]:
        index = self._call_of(event)
        if index is None:
            raise self._malformed("function_call_arguments.delta for a call never added")
        delta = _field(event, "delta") or ""
        self.arguments[index] += delta
        return [ProviderEvent(tool_call=ToolCallDelta(index, arguments=delta))] if delta else []

    def arguments_done(self, event: Any) -> list[ProviderEvent]:
        index = self._call_of(event)
        if index is None:
            raise self._malformed("function_call_arguments.done for a call never added")
        return self._rest_of(index, _field(event, "arguments"))

    def item_done(self, event: Any) -> list[ProviderEvent]:
        item = _field(event, "item")
        if _field(item, "type") != "function_call":
            return []
        index = self._call_of(event, item_id=_field(item, "id"))
        if index is None:
            return [self._new_call(item, _field(event, "output_index"))]
        return self._rest_of(index, _field(item, "arguments"))

    def _new_call(self, item: Any, output_index: int | None) -> ProviderEvent:
        """The first delta of a call: its index, id and name, and any arguments so far."""
        index = len(self.arguments)
        arguments = _field(item, "arguments") or ""
        self.arguments.append(arguments)
        item_id = _field(item, "id")
        if item_id:
            self.by_item[item_id] = index
        if output_index is not None:
            self.by_output[output_index] = index
        call = ToolCallDelta(
            index,
            id=_field(item, "call_id") or None,
            name=_field(item, "name"),
            arguments=arguments,
        )
        return ProviderEvent(tool_call=call)

    def _call_of(self, event: Any, item_id: str | None = None) -> int | None:
        """The index of the call ``event`` is about."""
        item_id = item_id or _field(event, "item_id")
        if item_id and item_id in self.by_item:
            return self.by_item[item_id]
        output_index = _field(event, "output_index")
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
        self.response = _field(event, "response")
        return []

    def failed(self, event: Any) -> list[ProviderEvent]:
        raise self._failure_of(_field(event, "response"))

    def _failure_of(self, response: Any) -> ProviderError:
        """The error of a failed response: its ``error``'s code and type name the kind."""
        error = _field(response, "error")
        return self._error(
            _field(error, "message") or "the response failed",
            _field(error, "code"),
            _field(error, "type"),
        )

    def error_event(self, event: Any) -> list[ProviderEvent]:
        raise self._error(
            _field(event, "message") or "the stream reported an error", _field(event, "code")
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
        if _field(response, "status") == "failed":
            raise self._failure_of(response)
        refusal = self.refusal if self.refusal is not None else _refusal_in(response)
        if refusal is not None:
            raise refusal_error(provider, model, "refusal", self.chars, refusal)
        finish = self._finish_reason(response)
        if finish == "content_filter":
            raise refusal_error(provider, model, "content_filter", self.chars)
        usage = _field(response, "usage")
        return ProviderEvent(
            usage=_usage(usage) if usage is not None else None, finish_reason=finish
        )

    def _finish_reason(self, response: Any) -> str | None:
        if _field(response, "status") == "incomplete":
            details = _field(response, "incomplete_details")
            reason = _field(details, "reason") or "incomplete"
            return normalise_finish_reason(reason, _INCOMPLETE_REASONS)
        return "tool_calls" if self.arguments else "stop"


_HANDLERS: dict[str, Callable[[ResponsesReader, Any], list[ProviderEvent]]] = {
    _TEXT_DELTA: ResponsesReader.text,
    _SUMMARY_DELTA: ResponsesReader.reasoning,
    "response.reasoning_text.delta": ResponsesReader.reasoning,
    "response.refusal.delta": ResponsesReader.refusal_delta,
    "response.output_item.added": ResponsesReader.item_added,
    "response.function_call_arguments.delta": ResponsesReader.arguments_delta,
    "response.function_call_arguments.done": ResponsesReader.arguments_done,
    "response.output_item.done": ResponsesReader.item_done,
    "response.completed": ResponsesReader.closing,
    "response.incomplete": ResponsesReader.closing,
    "response.failed": ResponsesReader.failed,
    "error": ResponsesReader.error_event,
}


def _index_of(event: Any) -> object:
    """The part a reasoning delta belongs to: its ``summary_index`` where the event has that
    field, else its ``content_index``.

    The SDK's summary event declares ``summary_index`` (None when it was left out) and its
    reasoning-text event ``content_index``, with a ``summary_index`` only when one was sent:
    a JSON object is read the same way."""
    if isinstance(event, dict):
        if "summary_index" in event or event.get("type") == _SUMMARY_DELTA:
            return event.get("summary_index")
        return event.get("content_index")
    return getattr(event, "summary_index", getattr(event, "content_index", None))


def _refusal_in(response: Any) -> str | None:
    """The text of the refusal parts in the response's output messages (None: it has
    none)."""
    found = [
        _field(part, "refusal") or ""
        for item in _field(response, "output") or ()
        if _field(item, "type") == "message"
        for part in _field(item, "content") or ()
        if _field(part, "type") == "refusal"
    ]
    return " ".join(text for text in found if text) if found else None


def _usage(usage: Any) -> Usage:
    inputs = _field(usage, "input_tokens_details")
    outputs = _field(usage, "output_tokens_details")
    return Usage.of(
        _count(usage, "input_tokens"),
        _count(usage, "output_tokens"),
        reasoning=_count(outputs, "reasoning_tokens"),
        cached_input=_count(inputs, "cached_tokens"),
        cache_write=_count(inputs, "cache_write_tokens"),
    )


def _count(report: object, name: str) -> int:
    value = _field(report, name)
    return value if isinstance(value, int) else 0
