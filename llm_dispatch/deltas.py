"""What a stream carries besides its text: reasoning, and tool calls in pieces.

A :class:`StreamExtras` (one per stream, ``StreamContext.extras``) takes every non-text
:class:`~llm_dispatch.events.ProviderEvent` the dispatcher receives and turns it into the
:class:`~llm_dispatch.events.ReasoningEvent` / :class:`~llm_dispatch.events.ToolCallEvent`
the stages and the consumer see:

- reasoning deltas are kept apart from the text (:attr:`StreamExtras.reasoning`), with the
  signature the provider vouches for them with;
- tool-call deltas are assembled per call, by the call's index, so parallel calls whose
  pieces interleave stay apart. A call's first delta is its ``started`` event (id and name),
  each piece of arguments text an ``arguments`` event. When the answer completed,
  :meth:`StreamExtras.finish_tool_calls` parses every call's arguments and checks them
  against the offered tool (:class:`~llm_dispatch.tools.Tool`): the ``done`` events, in
  index order, or :class:`~llm_dispatch.output_errors.InvalidToolCallError`.

A provider that gives a call no id gets ``call_<index>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .content import ReasoningPart, ToolCallPart
from .events import ProviderEvent, ReasoningEvent, ToolCallDelta, ToolCallEvent
from .output_errors import InvalidToolCallError
from .tools import Tool, ToolArgumentsError, ToolCall, parse_arguments

__all__ = ["PendingToolCall", "StreamExtras"]


@dataclass(slots=True)
class PendingToolCall:
    """A tool call still streaming: what its deltas said so far."""

    index: int
    id: str
    name: str
    pieces: list[str] = field(default_factory=list)
    signature: str | None = None

    @property
    def arguments_text(self) -> str:
        return "".join(self.pieces)


@dataclass(slots=True)
class StreamExtras:
    """The reasoning and tool calls of one stream (see the module docstring)."""

    reasoning_pieces: list[str] = field(default_factory=list)
    reasoning_signature: str | None = None
    # Where the reasoning of the attempt streaming now begins in ``reasoning_pieces``: after
    # a mid-stream continuation, only its own reasoning goes with its signature.
    attempt_reasoning_start: int = 0
    pending: dict[int, PendingToolCall] = field(default_factory=dict)
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def reasoning(self) -> str:
        """Every reasoning delta so far, joined."""
        return "".join(self.reasoning_pieces)

    @property
    def has_tool_calls(self) -> bool:
        """True once a tool-call delta reached the consumer."""
        return bool(self.pending)

    def begin_attempt(self) -> None:
        """Another attempt streams from now on: what it reasons is signed on its own."""
        self.attempt_reasoning_start = len(self.reasoning_pieces)
        self.reasoning_signature = None

    def take(self, event: ProviderEvent) -> ReasoningEvent | ToolCallEvent | None:
        """Record a non-text event; the event the stages and consumer see (None: nothing to
        show, e.g. a signature)."""
        if event.reasoning:
            self.reasoning_pieces.append(event.reasoning)
            return ReasoningEvent(event.reasoning)
        if event.reasoning_signature is not None:
            self.reasoning_signature = event.reasoning_signature
            return None
        if event.tool_call is not None:
            return self._tool_delta(event.tool_call)
        return None

    def _tool_delta(self, delta: ToolCallDelta) -> ToolCallEvent | None:
        call = self.pending.get(delta.index)
        if call is None:
            call = PendingToolCall(
                delta.index, delta.id or f"call_{delta.index}", delta.name or "", []
            )
            self.pending[delta.index] = call
            if delta.signature is not None:
                call.signature = delta.signature
            if delta.arguments:
                call.pieces.append(delta.arguments)
            return ToolCallEvent(
                "started", call.index, call.id, call.name, arguments_delta=delta.arguments
            )
        if delta.name and not call.name:
            call.name = delta.name
        if delta.signature is not None:
            call.signature = delta.signature
        if not delta.arguments:
            return None
        call.pieces.append(delta.arguments)
        return ToolCallEvent(
            "arguments", call.index, call.id, call.name, arguments_delta=delta.arguments
        )

    def finish_tool_calls(self, tools: Sequence[Tool]) -> list[ToolCallEvent]:
        """Every pending call parsed and checked, as its ``done`` event, in index order;
        :class:`InvalidToolCallError` for the first that is not valid."""
        by_name = {tool.name: tool for tool in tools}
        done: list[ToolCall] = []
        for index in sorted(self.pending):
            call = self.pending[index]
            text = call.arguments_text
            tool = by_name.get(call.name)
            try:
                if tool is None:
                    offered = ", ".join(repr(n) for n in by_name) or "none"
                    raise ToolArgumentsError(f"no tool of that name was offered ({offered})")
                arguments = tool.check(parse_arguments(text))
            except ToolArgumentsError as exc:
                raise InvalidToolCallError(
                    name=call.name,
                    call_id=call.id,
                    arguments_text=text,
                    problem=str(exc),
                    tool_calls=tuple(done),
                ) from None
            done.append(
                ToolCall(
                    index=index,
                    id=call.id,
                    name=call.name,
                    arguments=arguments,
                    arguments_text=text,
                )
            )
        self.tool_calls = tuple(done)
        return [ToolCallEvent("done", c.index, c.id, c.name, call=c) for c in done]

    def partial_tool_calls(self) -> list[dict[str, object]]:
        """The calls as far as they streamed (id, name, arguments text so far)."""
        return [
            {"index": c.index, "id": c.id, "name": c.name, "arguments_text": c.arguments_text}
            for c in (self.pending[i] for i in sorted(self.pending))
        ]

    def assistant_parts(self, provider_kind: str | None) -> list[ReasoningPart | ToolCallPart]:
        """The reasoning and the tool calls as parts of the assistant turn that answers, to
        send back on the next turn of a tool loop."""
        parts: list[ReasoningPart | ToolCallPart] = []
        # The answering attempt's reasoning only: an earlier attempt's (cut off before a
        # continuation) has no signature that vouches for it.
        reasoning = "".join(self.reasoning_pieces[self.attempt_reasoning_start :])
        if reasoning or self.reasoning_signature:
            parts.append(ReasoningPart(text=reasoning, signature=self.reasoning_signature,
                                       provider_kind=provider_kind))  # fmt: skip
        signatures = {i: c.signature for i, c in self.pending.items()}
        parts.extend(
            ToolCallPart(
                id=c.id, name=c.name, arguments=c.arguments, signature=signatures.get(c.index)
            )
            for c in self.tool_calls
        )
        return parts
