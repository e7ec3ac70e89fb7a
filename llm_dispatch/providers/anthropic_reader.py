"""The events of one Anthropic messages stream as :class:`ProviderEvent` s.

An event arrives in one of two forms, read the same way: the SDK's raw stream event
(``parser: sdk``, :meth:`MessageReader.read`) or the event's JSON object as parsed from the
raw body (``parser: fast``, :meth:`MessageReader.read_data`, see :mod:`.anthropic_fast`).
Either way the reader yields the text, thinking, signature and tool-call events, and keeps
what the closing event needs: whether ``message_stop`` came, the stop reason and its
details, the token counts and the text's length. The rules are those of
:mod:`.anthropic`'s docstring.

``read_data`` reads a field the way the SDK's ``construct`` leaves it: an absent field is
None, and a value of the wrong JSON type counts as absent (the SDK keeps such a value as
it is; the reader's tests then skip it, as they skip a null, or fail on it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..events import ProviderEvent, ToolCallDelta, Usage
from .stream_reading import update_counts

__all__ = ["MessageReader", "refusal_detail"]

# Every prompt token billed: fresh input plus cache writes and cache reads.
_PROMPT_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_DELTA_COUNTS = (*_PROMPT_COUNTS, "output_tokens")
# What a refusal's message adds, from its ``stop_details``.
_REFUSAL_PARTS = ("category", "explanation")


@dataclass
class _ToolBlock:
    """A ``tool_use`` block being streamed: its call's index among the answer's calls, the
    block's own ``input`` and whether any piece of arguments arrived."""

    call: int
    start_input: object
    streamed: bool = False


@dataclass
class MessageReader:
    """Reads the events of one stream into :class:`ProviderEvent` s and keeps what the
    final event needs (stop reason, token counts)."""

    # A continuation whose prefill lost its trailing whitespace: the consumer already has
    # that whitespace, so leading whitespace of the continuation is dropped, not repeated.
    trim_leading_space: bool
    chars: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    stop_reason: str | None = None
    stop_details: object = None
    stopped: bool = False
    tool_blocks: dict[object, _ToolBlock] = field(default_factory=dict)

    # -- the SDK's events --

    def read(self, event: Any) -> ProviderEvent | None:
        """The event to yield for one raw SDK event, if any."""
        kind = event.type
        # Deltas are nearly every event: test for them first.
        if kind == "content_block_delta":
            return self._delta(event.index, event.delta)
        if kind == "content_block_start":
            block = event.content_block
            if block.type != "tool_use":
                return None
            return self._tool_start(
                event.index, block.id, block.name, getattr(block, "input", None)
            )
        if kind == "content_block_stop":
            return self._stop(event.index)
        if kind == "message_start":
            update_counts(self.counts, getattr(event.message, "usage", None), _PROMPT_COUNTS)
        elif kind == "message_delta":
            delta = event.delta
            if getattr(delta, "stop_reason", None) is not None:
                self.stop_reason = delta.stop_reason
                self.stop_details = getattr(delta, "stop_details", None)
            update_counts(self.counts, event.usage, _DELTA_COUNTS)
        elif kind == "message_stop":
            self.stopped = True
        return None

    def _delta(self, index: object, delta: Any) -> ProviderEvent | None:
        kind = delta.type
        if kind == "text_delta":
            return self._text(delta.text)
        if kind == "thinking_delta":
            return ProviderEvent(reasoning=delta.thinking) if delta.thinking else None
        if kind == "signature_delta":
            return ProviderEvent(reasoning_signature=delta.signature) if delta.signature else None
        if kind == "input_json_delta":
            return self._arguments(index, delta.partial_json)
        return None

    # -- parsed JSON events --

    def read_data(self, event: Mapping[str, Any]) -> ProviderEvent | None:
        """The event to yield for one event's JSON object, exactly as :meth:`read` gives it
        for the SDK's event of the same object."""
        kind = event.get("type")
        if kind == "content_block_delta":
            delta = event.get("delta")
            if type(delta) is not dict:
                return None
            if delta.get("type") == "text_delta" and not self.trim_leading_space:
                # Nearly every event: a text delta read inline.
                text = delta.get("text")
                if not text or type(text) is not str:
                    return None
                self.chars += len(text)
                return ProviderEvent(text=text)
            return self._data_delta(event.get("index"), delta)
        if kind == "content_block_start":
            block = event.get("content_block")
            if not isinstance(block, dict) or block.get("type") != "tool_use":
                return None
            return self._tool_start(
                event.get("index"), _text(block, "id"), _text(block, "name"), block.get("input")
            )
        if kind == "content_block_stop":
            return self._stop(event.get("index"))
        if kind == "message_start":
            message = event.get("message")
            if isinstance(message, dict):
                update_counts(self.counts, message.get("usage"), _PROMPT_COUNTS)
        elif kind == "message_delta":
            delta = event.get("delta")
            if isinstance(delta, dict) and _text(delta, "stop_reason") is not None:
                self.stop_reason = delta["stop_reason"]
                self.stop_details = delta.get("stop_details")
            update_counts(self.counts, event.get("usage"), _DELTA_COUNTS)
        elif kind == "message_stop":
            self.stopped = True
        return None

    def _data_delta(self, index: object, delta: Mapping[str, Any]) -> ProviderEvent | None:
        kind = delta.get("type")
        if kind == "text_delta":
            text = _text(delta, "text")
            return self._text(text) if text is not None else None
        if kind == "thinking_delta":
            thinking = _text(delta, "thinking")
            return ProviderEvent(reasoning=thinking) if thinking else None
        if kind == "signature_delta":
            signature = _text(delta, "signature")
            return ProviderEvent(reasoning_signature=signature) if signature else None
        if kind == "input_json_delta":
            return self._arguments(index, _text(delta, "partial_json"))
        return None

    # -- what both forms come to --

    def _text(self, text: str) -> ProviderEvent | None:
        if self.trim_leading_space:
            text = text.lstrip()
            if text:
                self.trim_leading_space = False
        if not text:
            return None
        self.chars += len(text)
        return ProviderEvent(text=text)

    def _tool_start(
        self, index: object, call_id: str | None, name: str | None, start_input: object
    ) -> ProviderEvent:
        call = len(self.tool_blocks)
        self.tool_blocks[index] = _ToolBlock(call, start_input)
        return ProviderEvent(tool_call=ToolCallDelta(call, id=call_id, name=name))

    def _arguments(self, index: object, piece: str | None) -> ProviderEvent | None:
        block = self.tool_blocks.get(index)
        if block is None or not piece:
            return None
        block.streamed = True
        return ProviderEvent(tool_call=ToolCallDelta(block.call, arguments=piece))

    def _stop(self, index: object) -> ProviderEvent | None:
        block = self.tool_blocks.get(index)
        if block is None or block.streamed:
            return None
        block.streamed = True
        arguments = block.start_input if isinstance(block.start_input, dict) else {}
        text = json.dumps(arguments, separators=(",", ":"))
        return ProviderEvent(tool_call=ToolCallDelta(block.call, arguments=text))

    def usage(self) -> Usage | None:
        """The answer's token counts, or None when the stream reported none."""
        counts = self.counts
        if not counts:
            return None
        return Usage.of(
            sum(counts.get(name, 0) for name in _PROMPT_COUNTS),
            counts.get("output_tokens", 0),
            cached_input=counts.get("cache_read_input_tokens", 0),
            cache_write=counts.get("cache_creation_input_tokens", 0),
        )


def refusal_detail(stop_details: object) -> str:
    """``category: explanation`` of a refusal's ``stop_details`` (the SDK's object or its
    JSON object), as far as it has them."""
    if isinstance(stop_details, dict):
        parts = [stop_details.get(name) for name in _REFUSAL_PARTS]
    else:
        parts = [getattr(stop_details, name, None) for name in _REFUSAL_PARTS]
    return ": ".join(str(part) for part in parts if part)


def _text(data: Mapping[str, Any], name: str) -> str | None:
    """A string field of a JSON object; any other value counts as absent."""
    value = data.get(name)
    return value if isinstance(value, str) else None
