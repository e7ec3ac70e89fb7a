"""The chunks of one OpenAI chat-completions stream as :class:`ProviderEvent` s.

A chunk arrives in one of two forms, read the same way: the SDK's ``ChatCompletionChunk``
(``parser: sdk``, :meth:`ChatReader.read`) or the chunk's JSON object as parsed from the
raw body (``parser: fast``, :meth:`ChatReader.read_data`, see :mod:`.openai_fast`). Either
way a chunk gives its reasoning, then its text, then its tool-call pieces, and the reader
keeps what the closing event needs: the finish reason, the last usage, the text's length
and whether tool calls were made. The rules are those of :mod:`.openai`'s docstring.

``read_data`` reads a field the way the SDK's ``construct`` leaves it: a field whose value
has the wrong JSON type counts as absent (the SDK keeps it as is, and the reader's
truthiness tests then skip it, or fail on it where noted).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..events import ProviderEvent, ToolCallDelta, Usage
from .classify import incomplete_error, refusal_error
from .stream_reading import normalise_finish_reason

if TYPE_CHECKING:
    from openai.types.chat.chat_completion_chunk import ChatCompletionChunk, ChoiceDelta
    from openai.types.completion_usage import CompletionUsage

    from .base import Provider

__all__ = ["ChatReader"]

_FINISH_REASONS = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}
# The provider index a legacy ``function_call`` delta (which has none) is read under.
_LEGACY_CALL = -1
# Delta fields in which OpenAI-compatible servers stream reasoning, in order of preference
# (DeepSeek, vLLM and Ollama ``reasoning_content``; newer vLLM and OpenRouter ``reasoning``).
_REASONING_FIELDS = ("reasoning_content", "reasoning")


class ChatReader:
    """Turns the chunks of one chat-completions stream into events (see the module doc)."""

    def __init__(self) -> None:
        self.chars = 0
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        # A structured-output refusal streams as ``delta.refusal`` and ends with "stop".
        self.refusal: str | None = None
        self._calls = _ToolCallNumbering()

    # -- the SDK's chunks --

    def read(self, chunk: ChatCompletionChunk) -> list[ProviderEvent]:
        """The events of one SDK chunk: reasoning, then text, then tool-call pieces."""
        events: list[ProviderEvent] = []
        if chunk.choices:
            choice = chunk.choices[0]
            if choice.delta is not None:
                events.extend(self._delta_events(choice.delta))
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage)
        return events

    def _delta_events(self, delta: ChoiceDelta) -> Iterator[ProviderEvent]:
        if delta.refusal:
            self.refusal = (self.refusal or "") + delta.refusal
        reasoning = _reasoning_text(delta)
        if reasoning:
            yield ProviderEvent(reasoning=reasoning)
        if delta.content:
            self.chars += len(delta.content)
            yield ProviderEvent(text=delta.content)
        for piece in delta.tool_calls or ():
            function = piece.function
            call = self._calls.delta(
                piece.index,
                piece.id,
                function.name if function is not None else None,
                function.arguments if function is not None else None,
            )
            if call is not None:
                yield ProviderEvent(tool_call=call)
        legacy = delta.function_call
        if legacy is not None:
            call = self._calls.delta(_LEGACY_CALL, None, legacy.name, legacy.arguments)
            if call is not None:
                yield ProviderEvent(tool_call=call)

    # -- parsed JSON chunks --

    def read_data(self, chunk: Mapping[str, Any]) -> list[ProviderEvent]:
        """The events of one chunk's JSON object, exactly as :meth:`read` gives them for the
        SDK's chunk of the same object."""
        events: list[ProviderEvent] = []
        choices = chunk.get("choices")
        if choices and isinstance(choices, list):
            choice = choices[0]
            if isinstance(choice, dict):
                delta = choice.get("delta")
                if isinstance(delta, dict):
                    events.extend(self._data_delta_events(delta))
                finish = choice.get("finish_reason")
                if finish and isinstance(finish, str):
                    self.finish_reason = finish
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = _data_usage(usage)
        return events

    def _data_delta_events(self, delta: Mapping[str, Any]) -> Iterator[ProviderEvent]:
        refusal = _text(delta, "refusal")
        if refusal:
            self.refusal = (self.refusal or "") + refusal
        for name in _REASONING_FIELDS:
            reasoning = _text(delta, name)
            if reasoning:
                yield ProviderEvent(reasoning=reasoning)
                break
        content = _text(delta, "content")
        if content:
            self.chars += len(content)
            yield ProviderEvent(text=content)
        pieces = delta.get("tool_calls")
        for piece in pieces if isinstance(pieces, list) else ():
            if not isinstance(piece, dict):
                continue
            index = piece.get("index")
            call = self._data_call(
                index if isinstance(index, int) else None, _text(piece, "id"), piece.get("function")
            )
            if call is not None:
                yield ProviderEvent(tool_call=call)
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            call = self._data_call(_LEGACY_CALL, None, legacy)
            if call is not None:
                yield ProviderEvent(tool_call=call)

    def _data_call(
        self, index: int | None, call_id: str | None, function: Any
    ) -> ToolCallDelta | None:
        if not isinstance(function, dict):
            return self._calls.delta(index, call_id, None, None)
        return self._calls.delta(
            index, call_id, _text(function, "name"), _text(function, "arguments")
        )

    # -- the end --

    def closing(self, provider: Provider, model: str) -> ProviderEvent:
        """The final event (usage and finish reason); raises for a stream that ended without
        a finish reason, with a content-filter one, or with a refusal."""
        if self.finish_reason is None:
            raise incomplete_error(provider, model, "a finish_reason", self.chars)
        if self.refusal is not None:
            raise refusal_error(provider, model, "refusal", self.chars, self.refusal)
        finish = normalise_finish_reason(self.finish_reason, _FINISH_REASONS)
        if finish == "content_filter":
            raise refusal_error(provider, model, self.finish_reason, self.chars)
        if finish == "stop" and self._calls.count:
            # Some compatible servers end an answer of tool calls with "stop".
            finish = "tool_calls"
        return ProviderEvent(usage=self.usage, finish_reason=finish)


class _ToolCallNumbering:
    """Numbers the tool calls of one answer from 0, in the order they start, and hands out
    each call's id and name once, on its first delta that has them.

    A piece belongs to the call of its provider ``index`` (a piece without one, to the call
    of the piece before it), unless it brings an id other than that call's: then it starts a
    new call (some compatible servers put every call at index 0).
    """

    def __init__(self) -> None:
        self._by_index: dict[int, int] = {}
        self._ids: list[str | None] = []
        self._named: list[bool] = []
        self._last_index = 0

    @property
    def count(self) -> int:
        """How many calls have started."""
        return len(self._ids)

    def delta(
        self, index: int | None, call_id: str | None, name: str | None, arguments: str | None
    ) -> ToolCallDelta | None:
        """The delta for one piece, or None when it says nothing new."""
        key = self._last_index if index is None else index
        self._last_index = key
        ours = self._by_index.get(key)
        if ours is None or (call_id and self._ids[ours] not in (None, call_id)):
            ours = self._by_index[key] = self.count
            self._ids.append(None)
            self._named.append(False)
        new_id = call_id if call_id and self._ids[ours] is None else None
        if new_id is not None:
            self._ids[ours] = new_id
        new_name = name if name and not self._named[ours] else None
        if new_name is not None:
            self._named[ours] = True
        if new_id is None and new_name is None and not arguments:
            return None
        return ToolCallDelta(index=ours, id=new_id, name=new_name, arguments=arguments or "")


def _text(data: Mapping[str, Any], name: str) -> str | None:
    """A string field of a JSON object; any other value counts as absent."""
    value = data.get(name)
    return value if isinstance(value, str) else None


def _reasoning_text(delta: ChoiceDelta) -> str:
    """The reasoning a delta carries in a field the SDK does not declare (see
    :data:`_REASONING_FIELDS`), or ``""``.

    Read from the model's extra fields: ``getattr`` on a field that is absent raises inside
    pydantic, which costs about 2 µs a field on every chunk. A field an SDK version does
    declare is read as an attribute."""
    extra = delta.__pydantic_extra__
    declared = _declared_reasoning_fields(type(delta))
    for name in _REASONING_FIELDS:
        value = getattr(delta, name) if name in declared else (extra or {}).get(name)
        if isinstance(value, str) and value:
            return value
    return ""


@functools.cache
def _declared_reasoning_fields(cls: type[ChoiceDelta]) -> frozenset[str]:
    return frozenset(name for name in _REASONING_FIELDS if name in cls.model_fields)


def _usage(usage: CompletionUsage) -> Usage:
    """The counts of a usage report; cached and reasoning tokens are inside OpenAI's prompt
    and completion counts already."""
    return Usage.of(
        usage.prompt_tokens or 0,
        usage.completion_tokens or 0,
        reasoning=_count(usage.completion_tokens_details, "reasoning_tokens"),
        cached_input=_count(usage.prompt_tokens_details, "cached_tokens"),
    )


def _count(details: object, name: str) -> int:
    value = getattr(details, name, None)
    return value if isinstance(value, int) else 0


def _data_usage(usage: Mapping[str, Any]) -> Usage:
    """:func:`_usage` of a usage report's JSON object."""
    return Usage.of(
        _number(usage, "prompt_tokens"),
        _number(usage, "completion_tokens"),
        reasoning=_number(usage.get("completion_tokens_details"), "reasoning_tokens"),
        cached_input=_number(usage.get("prompt_tokens_details"), "cached_tokens"),
    )


def _number(data: object, name: str) -> int:
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, int) else 0
