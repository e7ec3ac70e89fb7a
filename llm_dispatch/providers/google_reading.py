"""Reading a Gemini answer: each chunk's parts as :class:`ProviderEvent` s (text, thoughts,
whole function calls, thought signatures), its finish reason, a blocked prompt, and its
token counts (see :mod:`.google` for what each becomes).

A chunk is read in either of two forms, with the same result: the SDK's
``GenerateContentResponse`` (:meth:`AnswerReader.read`), or the JSON object of the wire
(:meth:`AnswerReader.read_data`, for ``parser: fast``). The wire names its fields in
camelCase (``finishReason``, ``safetyRatings``, ``promptFeedback``, ``blockReason``,
``usageMetadata``, ``functionCall``, ``thoughtSignature`` ...); its enum values and thought
signatures are read as the SDK reads them (:mod:`.google_values`). Fields the reader does
not use are left alone in both forms.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..events import ProviderEvent, ToolCallDelta, Usage
from .google_tools import signature_text
from .google_values import UnreadableAnswer, enum_value, wire_signature
from .stream_reading import update_counts

if TYPE_CHECKING:
    from google.genai.types import Candidate, GenerateContentResponse, Part

__all__ = ["USAGE_COUNTS", "AnswerReader", "usage_of"]

#: The ``usage_metadata`` counts the usage is made of.
USAGE_COUNTS = (
    "prompt_token_count",
    "tool_use_prompt_token_count",
    "cached_content_token_count",
    "candidates_token_count",
    "thoughts_token_count",
)
# The same counts as the wire names them.
_WIRE_COUNTS = (
    ("promptTokenCount", "prompt_token_count"),
    ("toolUsePromptTokenCount", "tool_use_prompt_token_count"),
    ("cachedContentTokenCount", "cached_content_token_count"),
    ("candidatesTokenCount", "candidates_token_count"),
    ("thoughtsTokenCount", "thoughts_token_count"),
)
# A hop boundary of a long decode, not an end: with automatic continuation off, a stream
# that stops there is incomplete.
_CONTINUATION = "CONTINUATION"


class AnswerReader:
    """Turns the chunks of one answer into events, numbering its function calls, and keeps
    what the answer's end is judged by."""

    def __init__(self) -> None:
        #: How many function calls the answer has made so far.
        self.calls = 0
        #: The latest finish reason, as Gemini names it (None: none yet, or a continuation).
        self.finish_reason: str | None = None
        #: The safety categories the candidate that finished was blocked for ("" for none).
        self.blocked_for = ""
        #: Why the prompt was blocked, when a chunk without candidates says it was.
        self.blocked_prompt: str | None = None
        #: The latest token counts reported (see :func:`usage_of`).
        self.counts: dict[str, int] = {}

    def read(self, chunk: GenerateContentResponse) -> list[ProviderEvent]:
        """The events of an SDK chunk, in the order of its first candidate's parts.
        Adjacent text parts are one text event; a part with nothing this library reads (an
        empty text, inline data) yields nothing."""
        events: list[ProviderEvent] = []
        if chunk.candidates:
            candidate = chunk.candidates[0]
            content = candidate.content
            for part in (content.parts if content is not None else None) or []:
                self._read_part(part, events)
            raw = candidate.finish_reason
            if raw is not None and self._finish(str(getattr(raw, "value", raw))):
                self._blocked_for(_blocked_categories(candidate))
        elif chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason is not None:
            feedback = chunk.prompt_feedback
            reason = getattr(feedback.block_reason, "value", feedback.block_reason)
            self._blocked(str(reason), feedback.block_reason_message)
        if chunk.usage_metadata is not None:
            update_counts(self.counts, chunk.usage_metadata, USAGE_COUNTS)
        return events

    def read_data(self, data: dict[str, Any]) -> list[ProviderEvent]:
        """The events of a chunk's JSON object, exactly as :meth:`read` gives them for the
        SDK's chunk made of it. A field this reader uses that holds the wrong kind of JSON
        value raises :class:`UnreadableAnswer` (the SDK's model refuses most such chunks);
        a token count that is not an integer is left out."""
        try:
            return self._read_data(data)
        except (AttributeError, TypeError, KeyError) as exc:
            raise UnreadableAnswer(f"a chunk field holds the wrong kind of value ({exc})") from None

    def _read_data(self, data: dict[str, Any]) -> list[ProviderEvent]:
        events: list[ProviderEvent] = []
        candidates = data.get("candidates")
        if candidates:
            candidate = candidates[0]
            content = candidate.get("content")
            for part in (content.get("parts") if content is not None else None) or []:
                self._read_wire_part(part, events)
            raw = candidate.get("finishReason")
            if raw is not None and self._finish(_finish_reason(raw)):
                self._blocked_for(_wire_blocked_categories(candidate))
        else:
            feedback: Any = data.get("promptFeedback")
            raw = feedback.get("blockReason") if feedback is not None else None
            if raw is not None:
                from google.genai import types

                reason = enum_value(types.BlockedReason, raw, "a block reason")
                self._blocked(reason, feedback.get("blockReasonMessage"))
        usage = data.get("usageMetadata")
        if usage is not None:
            counts = self.counts
            for wire, name in _WIRE_COUNTS:
                value = usage.get(wire)
                if isinstance(value, int):
                    counts[name] = value
        return events

    def _finish(self, reason: str) -> bool:
        """Record a candidate's finish reason; False for none (empty, or a continuation)."""
        if not reason or reason == _CONTINUATION:
            return False
        self.finish_reason = reason
        return True

    def _blocked_for(self, categories: list[str]) -> None:
        self.blocked_for = f"blocked for {', '.join(categories)}" if categories else ""

    def _blocked(self, reason: str, message: str | None) -> None:
        detail = f": {message}" if message else ""
        self.blocked_prompt = f"prompt blocked ({reason}){detail}"

    def _read_part(self, part: Part, events: list[ProviderEvent]) -> None:
        signature = signature_text(part.thought_signature)
        call = part.function_call
        if call is not None:
            delta = self._call(call.name, call.id, call.args, signature)
            events.append(ProviderEvent(tool_call=delta))
            return
        self._read_text(part.text, part.thought, signature, events)

    def _read_wire_part(self, part: dict[str, Any], events: list[ProviderEvent]) -> None:
        signature = wire_signature(part.get("thoughtSignature"))
        call = part.get("functionCall")
        if call is not None:
            name, call_id, args = call.get("name"), call.get("id"), call.get("args")
            if not _optional(str, name, call_id) or not _optional(dict, args):
                raise UnreadableAnswer(f"function call {self.calls} has a field of the wrong type")
            events.append(ProviderEvent(tool_call=self._call(name, call_id, args, signature)))
            return
        text = part.get("text")
        if text is not None and type(text) is not str:
            raise UnreadableAnswer("a part's text is not a string")
        self._read_text(text, part.get("thought"), signature, events)

    @staticmethod
    def _read_text(
        text: str | None, thought: object, signature: str | None, events: list[ProviderEvent]
    ) -> None:
        if text and thought:
            events.append(ProviderEvent(reasoning=text))
        elif text:
            if events and events[-1].text:
                events[-1].text += text
            else:
                events.append(ProviderEvent(text=text))
        if signature is not None:
            events.append(ProviderEvent(reasoning_signature=signature))

    def _call(
        self, name: str | None, call_id: str | None, args: Any, signature: str | None
    ) -> ToolCallDelta:
        """A whole function call as one delta: its place among the answer's calls, its id
        (when Gemini gives one), name, arguments as JSON text, and thought signature."""
        if not name:
            raise UnreadableAnswer(f"function call {self.calls} has no name")
        delta = ToolCallDelta(
            index=self.calls,
            id=call_id or None,
            name=name,
            arguments=json.dumps(args or {}),
            signature=signature,
        )
        self.calls += 1
        return delta


def _optional(kind: type, *values: object) -> bool:
    """Whether each of ``values`` is None or of ``kind``."""
    return all(value is None or isinstance(value, kind) for value in values)


def _finish_reason(raw: object) -> str:
    from google.genai import types

    return enum_value(types.FinishReason, raw, "a finish reason")


def _blocked_categories(candidate: Candidate) -> list[str]:
    """The categories of an SDK candidate's safety ratings marked blocked."""
    ratings = candidate.safety_ratings or []
    return [
        str(getattr(r.category, "value", r.category)) for r in ratings if r.blocked and r.category
    ]


def _wire_blocked_categories(candidate: dict[str, Any]) -> list[str]:
    """The categories of a wire candidate's ``safetyRatings`` marked ``blocked``."""
    from google.genai import types

    return [
        enum_value(types.HarmCategory, rating["category"], "a harm category")
        for rating in candidate.get("safetyRatings") or []
        if rating.get("category") and rating.get("blocked")
    ]


def usage_of(counts: dict[str, int]) -> Usage | None:
    """The usage of the counts reported (None: none were).

    ``prompt_token_count`` includes the cached content; the prompts of Gemini's own tools
    (``tool_use_prompt_token_count``) are input too. ``candidates_token_count`` leaves out
    the thoughts, which are output.
    """
    if not counts:
        return None
    thoughts = counts.get("thoughts_token_count", 0)
    prompt = counts.get("prompt_token_count", 0) + counts.get("tool_use_prompt_token_count", 0)
    return Usage.of(
        prompt,
        counts.get("candidates_token_count", 0) + thoughts,
        reasoning=thoughts,
        cached_input=counts.get("cached_content_token_count", 0),
    )
