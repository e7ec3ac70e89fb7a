"""The interface each provider's wire format implements for the fake server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .parts import PartDict
from .script import FaultKind, RecordedRequest, ScriptedToolCall, Step

__all__ = ["ParsedRequest", "Wire"]


@dataclass
class ParsedRequest:
    """What a wire reads from a request body: the model, the system prompt, the messages as
    role/content (their text) dicts, each message's parts (:mod:`.parts`), in the same
    order, and whether JSON mode is on."""

    model: str
    system: str | None
    messages: list[dict[str, str]]
    parts: list[list[PartDict]] = field(default_factory=list)
    json_mode: bool = False
    #: The tools offered, as ``{"name", "description", "parameters"}``, in order.
    tools: list[dict[str, Any]] = field(default_factory=list)
    #: The tool choice and the reasoning setting, as sent.
    tool_choice: Any = None
    reasoning: Any = None


class Wire(Protocol):
    """Encodes one provider's streaming answer as the bytes its official SDK parses."""

    name: str

    def parse(self, path: str, body: dict[str, Any]) -> ParsedRequest:
        """What the request at ``path`` with ``body`` asks."""
        ...

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The JSON body of an HTTP error response."""
        ...

    def opening(self, rec: RecordedRequest, prompt_tokens: int) -> list[bytes]:
        """Events before the first text chunk."""
        ...

    def text(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        """One text chunk (``index`` counts from 0), with any events the shape puts before it."""
        ...

    def reasoning(self, rec: RecordedRequest, text: str, index: int) -> bytes:
        """One reasoning chunk (``index`` counts from 0), before any text."""
        ...

    def tool_call(self, rec: RecordedRequest, call: ScriptedToolCall, step: Step) -> list[bytes]:
        """The events for one piece of a tool call's arguments (``step.text``; ``step.call``
        is the call's index, ``step.first`` / ``step.last`` its first and last piece)."""
        ...

    def closing(
        self,
        rec: RecordedRequest,
        finish_reason: str,
        usage: tuple[int, int] | None,
        last_text: str | None,
    ) -> list[bytes]:
        """Events that end a complete answer (finish reason, usage, terminator).

        ``finish_reason`` is the script's (``stop``, ``length``, ``content_filter``), which the
        wire maps to its own value, or a native value, sent as is. ``last_text`` is set when
        the wire wants the final text chunk merged into its closing event (Gemini puts the
        finish reason on the last chunk); ``text`` was then not called for it.
        """
        ...

    def error_event(self, rec: RecordedRequest, kind: FaultKind, message: str) -> bytes:
        """The provider's in-stream error event."""
        ...

    def malformed(self) -> bytes:
        """An event the SDK cannot parse."""
        ...


def sse(data: str, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {data}\n\n".encode()
