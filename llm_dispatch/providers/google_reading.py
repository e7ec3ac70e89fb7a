"""Reading a Gemini answer: each chunk's parts as :class:`ProviderEvent` s (text, thoughts,
whole function calls, thought signatures), its finish reason and its token counts (see
:mod:`.google` for what each becomes)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..events import ProviderEvent, ToolCallDelta, Usage
from .google_tools import signature_text

if TYPE_CHECKING:
    from google.genai.types import GenerateContentResponse, Part

__all__ = ["USAGE_COUNTS", "AnswerReader", "UnreadableAnswer", "usage_of"]

#: The ``usage_metadata`` counts the usage is made of.
USAGE_COUNTS = (
    "prompt_token_count",
    "tool_use_prompt_token_count",
    "cached_content_token_count",
    "candidates_token_count",
    "thoughts_token_count",
)
# A hop boundary of a long decode, not an end: with automatic continuation off, a stream
# that stops there is incomplete.
_CONTINUATION = "CONTINUATION"


class UnreadableAnswer(ValueError):
    """A chunk holds something no answer can (a function call without a name)."""


class AnswerReader:
    """Turns the chunks of one answer into events, numbering its function calls."""

    def __init__(self) -> None:
        #: How many function calls the answer has made so far.
        self.calls = 0

    def read(self, chunk: GenerateContentResponse) -> tuple[list[ProviderEvent], str | None]:
        """The events of a chunk with candidates, in the order of its first candidate's
        parts, and that candidate's finish reason as Gemini names it (None for none, or a
        continuation). Adjacent text parts are one text event; a part with nothing this
        library reads (an empty text, inline data) yields nothing."""
        candidate = chunk.candidates[0] if chunk.candidates else None
        if candidate is None:
            return [], None
        content = candidate.content
        events: list[ProviderEvent] = []
        for part in (content.parts if content is not None else None) or []:
            self._read_part(part, events)
        raw = candidate.finish_reason
        reason = str(getattr(raw, "value", raw)) if raw is not None else ""
        return events, (reason if reason and reason != _CONTINUATION else None)

    def _read_part(self, part: Part, events: list[ProviderEvent]) -> None:
        signature = signature_text(part.thought_signature)
        if part.function_call is not None:
            events.append(ProviderEvent(tool_call=self._call(part, signature)))
            return
        if part.text and part.thought:
            events.append(ProviderEvent(reasoning=part.text))
        elif part.text:
            if events and events[-1].text:
                events[-1].text += part.text
            else:
                events.append(ProviderEvent(text=part.text))
        if signature is not None:
            events.append(ProviderEvent(reasoning_signature=signature))

    def _call(self, part: Part, signature: str | None) -> ToolCallDelta:
        """A whole function call as one delta: its place among the answer's calls, its id
        (when Gemini gives one), name, arguments as JSON text, and thought signature."""
        call = part.function_call
        assert call is not None
        if not call.name:
            raise UnreadableAnswer(f"function call {self.calls} has no name")
        delta = ToolCallDelta(
            index=self.calls,
            id=call.id or None,
            name=call.name,
            arguments=json.dumps(call.args or {}),
            signature=signature,
        )
        self.calls += 1
        return delta


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
