"""What the fake server is told to do for a request, and what it recorded."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = [
    "FaultKind",
    "RecordedRequest",
    "Script",
    "ScriptedToolCall",
    "ShapeFlag",
    "Step",
    "default_reply",
    "split_words",
]

FaultKind = Literal["overloaded", "server", "rate_limit", "bad_request"]
ShapeFlag = Literal[
    "no_start_usage",
    "no_delta_usage",
    "usage_in_delta",
    "partial_usage",
    "sparse",
    "unknown_events",
    "unknown_fields",
    "ping_before_start",
    "ping_between_blocks",
    "ping_between_deltas",
]
_SHAPE_FLAGS = frozenset(get_args(ShapeFlag))


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
class ScriptedToolCall:
    """One tool call a scripted answer makes: the tool's name, its arguments (a dict is
    sent as its JSON text), the call's id (None: the wire makes one up, ``call_<n>`` in
    its own style), and how many pieces the arguments text is streamed in."""

    name: str
    arguments: str | dict[str, Any] = "{}"
    id: str | None = None
    pieces: int = 3

    @property
    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, separators=(",", ":"))

    def argument_pieces(self) -> list[str]:
        """The arguments text cut into :attr:`pieces` pieces (fewer when it is shorter)."""
        text = self.arguments_text
        count = max(1, min(self.pieces, len(text)))
        size = -(-len(text) // count) if text else 1
        return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@dataclass(frozen=True, slots=True)
class Step:
    """One piece of a scripted answer, in the order the server streams them: a reasoning
    chunk, a text chunk, or a piece of a tool call's arguments (``call`` is the call's
    index; ``first`` / ``last`` mark its first and last piece)."""

    kind: Literal["reasoning", "text", "tool_call"]
    text: str
    index: int
    call: int = 0
    first: bool = False
    last: bool = False


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

    ``finish_reason`` is sent as each API spells it: ``content_filter`` is a refusal
    (Anthropic ``stop_reason: "refusal"`` with ``stop_details``, OpenAI ``finish_reason:
    "content_filter"``, Gemini ``finishReason: "SAFETY"`` on a candidate without content).
    ``native_finish_reason`` sends that value instead, as is (``PROHIBITED_CONTENT``,
    ``pause_turn`` ...). ``error_message`` is also a refusal's explanation (Anthropic's
    ``stop_details``, OpenAI's refusal text when the request asked for a JSON schema).

    ``usage`` is (prompt, completion) tokens; without it the server counts words (and media
    parts, see :mod:`.parts`) and chunks.
    ``send_usage=False`` leaves out OpenAI's usage chunk and Gemini's ``usageMetadata``;
    Anthropic then reports the word count as input tokens and zero output tokens (the
    ``no_start_usage`` / ``no_delta_usage`` shapes leave its usage out).
    ``cache_tokens=(written, read)``: that many of the prompt tokens are reported as written to
    and read from the prompt cache (Anthropic ``cache_creation_input_tokens`` /
    ``cache_read_input_tokens``, outside ``input_tokens``; OpenAI ``cached_tokens`` and Gemini
    ``cachedContentTokenCount`` for the ones read, inside the prompt count).

    ``shape`` selects variants of the wire format that real servers send. A wire ignores
    flags that mean nothing in its format; unknown flags are a ``ValueError``.

    - ``no_start_usage`` (Anthropic): ``message_start.message`` has no ``usage``.
    - ``no_delta_usage`` (Anthropic): ``message_delta`` has no ``usage``.
    - ``usage_in_delta`` (Anthropic): ``message_delta.usage`` also carries ``input_tokens`` and
      the cache counts (cumulative totals). With ``no_start_usage`` this is what
      Anthropic-compatible gateways send.
    - ``partial_usage``: counts arrive in pieces. Anthropic: ``message_start``'s usage has
      ``input_tokens`` only. Gemini: every chunk carries ``usageMetadata`` with the prompt
      and total counts; only the last adds ``candidatesTokenCount``.
    - ``sparse``: optional fields left out. OpenAI: a first chunk with empty ``choices``, a
      role chunk with ``content: null``, a finish chunk without ``delta``, no
      ``system_fingerprint`` / ``logprobs``. Gemini: no ``index`` / ``modelVersion`` /
      ``responseId``, and the finish reason in a chunk of its own whose ``content`` has no
      ``parts``, after one whose only part has no text. Anthropic: no null ``stop_reason`` /
      ``stop_sequence``.
    - ``unknown_events``: events no SDK knows. Anthropic: events of an unknown type after
      ``message_start``, between deltas and before ``message_stop``, and a
      ``content_block_delta`` of an unknown delta type. OpenAI: an SSE comment and a named
      event whose data is not a chunk. Gemini (which has no event types): a chunk with
      neither candidates nor usage.
    - ``unknown_fields``: fields no SDK knows, at every level of every event.
    - ``ping_before_start``, ``ping_between_deltas``, ``ping_between_blocks`` (Anthropic): an
      extra ``ping`` before ``message_start``, before every text delta but the first, or
      between two text blocks (the first text chunk then has a block of its own). A ping
      after the first ``content_block_start`` is always sent, as the API does.

    ``continuation`` scripts how a model answers a continuation request (one whose
    conversation holds the partial answer as an assistant message; ``text`` is then the
    *whole* answer, and the server finds the partial in the request):

    - ``follow``: only the rest of ``text`` after the partial, as a model should;
    - ``restart``: the whole of ``text`` again, from its first word;
    - ``repeat_tail``: the partial's last three words again, then the rest.

    ``reasoning`` is thinking streamed (in words) before the text, in the wire's own form
    (Anthropic ``thinking`` blocks, Gemini ``thought`` parts, ``reasoning_content`` on
    OpenAI-compatible chat completions); ``reasoning_tokens`` are reported in the usage
    where the wire reports them (default: one per reasoning word), inside the completion
    tokens.

    ``tool_calls`` are streamed after the text, each call's arguments in pieces: as
    OpenAI's indexed ``tool_calls`` deltas (``interleave_tool_calls``: the pieces of
    parallel calls alternate, as OpenAI may send them), Anthropic ``tool_use`` blocks with
    ``input_json_delta`` s, or whole Gemini ``functionCall`` parts. With tool calls and no
    ``text`` / ``chunks`` there is no text, and the finish reason is the wire's tool-call
    one (OpenAI ``tool_calls``, Anthropic ``tool_use``, Gemini ``STOP``) unless
    ``finish_reason`` says otherwise.

    Faults (``drop_after`` ...) count every step of the answer (:meth:`steps`): reasoning
    chunks, text chunks and tool-call pieces; an answer of text only counts text chunks.

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
    finish_reason: Literal["stop", "length", "content_filter", "tool_calls"] | None = None
    native_finish_reason: str | None = None
    usage: tuple[int, int] | None = None
    send_usage: bool = True
    cache_tokens: tuple[int, int] = (0, 0)
    shape: Collection[ShapeFlag] = frozenset()
    continuation: Literal["follow", "restart", "repeat_tail"] | None = None
    reasoning: str | None = None
    reasoning_tokens: int | None = None
    tool_calls: list[ScriptedToolCall] = field(default_factory=list)
    interleave_tool_calls: bool = False
    provider: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.shape, str):
            raise TypeError("shape is a collection of flags, not one string")
        unknown = set(self.shape) - _SHAPE_FLAGS
        if unknown:
            raise ValueError(
                f"unknown shape flags {sorted(unknown)}; known: {sorted(_SHAPE_FLAGS)}"
            )
        self.shape = frozenset(self.shape)

    def matches(self, provider: str, model: str) -> bool:
        return (self.provider in (None, provider)) and (self.model in (None, model))

    @property
    def finish(self) -> str:
        """The finish reason the answer ends with (see the class docstring)."""
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"

    @property
    def reasoning_token_count(self) -> int:
        if self.reasoning_tokens is not None:
            return self.reasoning_tokens
        return len(split_words(self.reasoning)) if self.reasoning else 0

    def steps(self, recorded: RecordedRequest) -> list[Step]:
        """Every piece of the answer in streaming order: reasoning, text, tool calls."""
        steps = [
            Step("reasoning", chunk, i) for i, chunk in enumerate(split_words(self.reasoning or ""))
        ]
        steps += [Step("text", chunk, i) for i, chunk in enumerate(self.text_chunks(recorded))]
        pieces = [call.argument_pieces() for call in self.tool_calls]
        order = [(c, p) for c, call_pieces in enumerate(pieces) for p in range(len(call_pieces))]
        if self.interleave_tool_calls:
            order.sort(key=lambda cp: (cp[1], cp[0]))
        steps += [
            Step(
                "tool_call",
                pieces[c][p],
                i,
                call=c,
                first=p == 0,
                last=p == len(pieces[c]) - 1,
            )
            for i, (c, p) in enumerate(order)
        ]
        return steps

    def text_chunks(self, recorded: RecordedRequest) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        if self.text is None and self.tool_calls:
            return []
        text = self.text if self.text is not None else default_reply(recorded)
        partial = recorded.partial_answer
        if self.continuation is not None and partial is not None:
            text = _continued(text, partial, self.continuation)
        return split_words(text)


def _continued(whole: str, partial: str, how: str) -> str:
    """What a model sends for a continuation of ``partial`` whose whole answer is ``whole``."""
    if how == "restart":
        return whole
    rest = whole[len(partial) :] if whole.startswith(partial) else whole
    if how == "follow":
        return rest
    tail = " ".join(partial.split()[-3:])
    return tail + (" " if partial.endswith((" ", "\n")) and not rest.startswith(" ") else "") + rest


def default_reply(recorded: RecordedRequest) -> str:
    """A deterministic reply that names the provider, the model and the prompt."""
    if recorded.json_mode:
        return json.dumps(
            {"provider": recorded.provider, "model": recorded.model, "prompt": recorded.prompt}
        )
    results = _tool_results(recorded)
    if results:
        return (
            f"This is the fake {recorded.provider} server answering as {recorded.model}. "
            f"The tools answered: {results}. A real model would use them in its answer."
        )
    prompt = " ".join(recorded.prompt.split())
    if len(prompt) > 80:
        prompt = prompt[:77] + "..."
    attached = _attachments(recorded)
    return (
        f"This is the fake {recorded.provider} server answering as {recorded.model}. "
        f'You asked: "{prompt}".{attached} A real model would stream its answer in chunks like '
        "these, one small piece at a time, until the closing event says it is done."
    )


def _tool_results(recorded: RecordedRequest) -> str:
    """``get_weather: sunny; local_time: 14:05`` for the results of the last tool turns."""
    turns: list[list[dict[str, Any]]] = []
    for message, parts in reversed(list(zip(recorded.messages, recorded.parts, strict=False))):
        if message["role"] != "tool":
            break
        turns.insert(0, parts)
    results = [p for parts in turns for p in parts if p.get("type") == "tool_result"]
    # OpenAI's tool turns carry only the call's id: its name is in the assistant's call.
    names = {
        p.get("id"): p.get("name")
        for parts in recorded.parts
        for p in parts
        if p.get("type") == "tool_call"
    }
    return "; ".join(
        f"{p.get('name') or names.get(p.get('tool_call_id')) or p.get('tool_call_id')}: "
        f"{p.get('content')}"
        for p in results
    )


_NOUNS = {"image": "an image", "audio": "an audio clip", "document": "a document"}


def _attachments(recorded: RecordedRequest) -> str:
    """`` With it: an image (image/png, 73 bytes).`` for the media of the last user turn."""
    last_user = [i for i, m in enumerate(recorded.messages) if m.get("role") == "user"]
    if not last_user or last_user[-1] >= len(recorded.parts):
        return ""
    described = []
    for part in recorded.parts[last_user[-1]]:
        kind = part.get("type")
        if kind not in ("image", "audio", "document"):
            continue
        data = part.get("data")
        size = f"{len(data):,} bytes" if isinstance(data, bytes) else f"from {part.get('url')}"
        mime = part.get("mime_type") or "type not given"
        described.append(f"{_NOUNS[kind]} ({mime}, {size})")
    return f" With it: {', '.join(described)}." if described else ""


@dataclass(eq=False)
class RecordedRequest:
    """A request the fake server received, and how its answer went."""

    provider: str
    path: str
    model: str
    headers: dict[str, str]
    body: dict[str, Any]
    # Normalised view of the conversation, whatever the provider's wire shape: each message's
    # role and text, and, aligned with ``messages``, its parts (see llm_dispatch.testing.parts:
    # text, and images, audio and documents with their bytes decoded or their URL).
    system: str | None
    messages: list[dict[str, str]]
    parts: list[list[dict[str, Any]]] = field(default_factory=list)
    json_mode: bool = False
    # The tools the request offered, each as {"name", "description", "parameters"}; the
    # tool choice as the wire sent it; the reasoning setting as the wire sent it.
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = None
    reasoning: Any = None
    status: int = 200
    # The prompt tokens the answer reports (the script's, or the fake count: see Script.usage).
    prompt_tokens: int = 0
    chunks_sent: int = 0
    # Every step sent: text chunks, reasoning chunks and tool-call pieces.
    steps_sent: int = 0
    completed: bool = False
    disconnected: bool = False
    script: Script | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    #: When the request arrived (``time.monotonic``), and when its answer ended (None while
    #: it is being answered).
    received_at: float = field(default_factory=time.monotonic)
    ended_at: float | None = None

    @property
    def shape(self) -> Collection[ShapeFlag]:
        """The shape flags of the script answering this request."""
        return self.script.shape if self.script is not None else frozenset()

    @property
    def partial_answer(self) -> str | None:
        """The last assistant message: the partial answer of a continuation request."""
        for message in reversed(self.messages):
            if message["role"] == "assistant":
                return message["content"]
        return None

    @property
    def prompt(self) -> str:
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message["content"]
        return self.messages[-1]["content"] if self.messages else ""

    async def wait_done(self, timeout: float = 5.0) -> None:
        """Wait until the server finished answering (completed, failed or disconnected)."""
        await asyncio.wait_for(self.done.wait(), timeout)
