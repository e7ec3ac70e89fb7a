"""What the fake server is told to do for a request, and what it recorded."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["FaultKind", "RecordedRequest", "Script", "default_reply", "split_words"]

FaultKind = Literal["overloaded", "server", "rate_limit", "bad_request"]


def split_words(text: str) -> list[str]:
    """Split text into word-sized chunks that keep their leading whitespace."""
    chunks: list[str] = []
    current = ""
    for ch in text:
        if ch.isspace() and current and not current.isspace():
            chunks.append(current)
            current = ""
        current += ch
    if current:
        chunks.append(current)
    return chunks


@dataclass
class Script:
    """One scripted answer.

    The text is ``chunks`` (exact boundaries) or ``text`` split into words; without either the
    server makes up a deterministic reply from the prompt. Faults, checked in this order:

    - ``status``: answer with this HTTP error (and ``Retry-After`` if ``retry_after``).
    - ``first_delay`` / ``chunk_delay``: seconds before the first / between text chunks.
    - ``drop_after=K``: abort the TCP connection after K text chunks.
    - ``cut_after=K``: end the body cleanly after K text chunks, without the closing event.
    - ``error_event_after=K``: send the provider's in-stream error event after K text chunks.
    - ``malformed_after=K``: send an event that is not valid JSON after K text chunks.

    ``provider`` / ``model`` restrict which requests the script answers (None: any).
    """

    text: str | None = None
    chunks: list[str] | None = None
    status: int | None = None
    retry_after: float | None = None
    error_message: str = "scripted failure"
    error_kind: FaultKind = "overloaded"
    first_delay: float = 0.0
    chunk_delay: float = 0.0
    drop_after: int | None = None
    cut_after: int | None = None
    error_event_after: int | None = None
    malformed_after: int | None = None
    finish_reason: Literal["stop", "length", "content_filter"] = "stop"
    usage: tuple[int, int] | None = None
    send_usage: bool = True
    provider: str | None = None
    model: str | None = None

    def matches(self, provider: str, model: str) -> bool:
        return (self.provider in (None, provider)) and (self.model in (None, model))

    def text_chunks(self, recorded: RecordedRequest) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        return split_words(self.text if self.text is not None else default_reply(recorded))


def default_reply(recorded: RecordedRequest) -> str:
    """A deterministic reply that names the provider, the model and the prompt."""
    if recorded.json_mode:
        return json.dumps(
            {"provider": recorded.provider, "model": recorded.model, "prompt": recorded.prompt}
        )
    prompt = " ".join(recorded.prompt.split())
    if len(prompt) > 80:
        prompt = prompt[:77] + "..."
    return (
        f"This is the fake {recorded.provider} server answering as {recorded.model}. "
        f'You asked: "{prompt}". A real model would stream its answer in chunks like these, '
        "one small piece at a time, until the closing event says it is done."
    )


@dataclass(eq=False)
class RecordedRequest:
    """A request the fake server received, and how its answer went."""

    provider: str
    path: str
    model: str
    headers: dict[str, str]
    body: dict[str, Any]
    # Normalised view of the conversation, whatever the provider's wire shape.
    system: str | None
    messages: list[dict[str, str]]
    json_mode: bool = False
    status: int = 200
    chunks_sent: int = 0
    completed: bool = False
    disconnected: bool = False
    script: Script | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def prompt(self) -> str:
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message["content"]
        return self.messages[-1]["content"] if self.messages else ""

    async def wait_done(self, timeout: float = 5.0) -> None:
        """Wait until the server finished answering (completed, failed or disconnected)."""
        await asyncio.wait_for(self.done.wait(), timeout)
