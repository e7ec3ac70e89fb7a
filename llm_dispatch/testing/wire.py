"""The interface each provider's wire format implements for the fake server."""

from __future__ import annotations

from typing import Any, Protocol

from .script import FaultKind, RecordedRequest

__all__ = ["Wire"]


class Wire(Protocol):
    """Encodes one provider's streaming answer as the bytes its official SDK parses."""

    name: str

    def parse(
        self, path: str, body: dict[str, Any]
    ) -> tuple[str, str | None, list[dict[str, str]], bool]:
        """(model, system, messages as role/content dicts, json_mode) from a request."""
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
