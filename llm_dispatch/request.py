"""The provider-neutral request: :class:`Request` and its :class:`Message` s.

How a call's arguments become one is :mod:`.binding`'s business.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .content import Content, Modality, ToolCallPart, ToolResultPart, modalities_of, text_of
from .redaction import redacted_mapping
from .task_types import TaskType
from .tools import Tool

__all__ = ["Message", "Reasoning", "Request"]


class Reasoning(BaseModel):
    """How much the model may think before it answers: an ``effort`` and/or a token
    ``budget``. Each provider maps it to its own setting (see ``docs/tools.md``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    effort: Literal["low", "medium", "high"] | None = None
    budget_tokens: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _something_set(self) -> Reasoning:
        if self.effort is None and self.budget_tokens is None:
            raise ValueError("reasoning needs an effort ('low', 'medium', 'high') or budget_tokens")
        return self

    @classmethod
    def of(cls, value: Any) -> Reasoning:
        """``value`` as a :class:`Reasoning`: one, a dict of its fields, an effort
        (``"high"``) or a token budget (``8000``); ``ValueError`` (or ``TypeError``) saying
        what was wrong otherwise."""
        if isinstance(value, Reasoning):
            return value
        if isinstance(value, str):
            return cls(effort=value)  # type: ignore[arg-type]
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(budget_tokens=value)
        if isinstance(value, dict):
            return cls(**value)
        raise TypeError(
            "reasoning takes 'low', 'medium' or 'high', a token budget (int), a dict with "
            f"'effort' and/or 'budget_tokens', or a Reasoning; not {type(value).__name__}"
        )


class Message(BaseModel):
    """One chat turn: its role, and its content (text, or parts: see :mod:`.content`)."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant", "tool"]
    content: Content

    @model_validator(mode="after")
    def _parts_fit_the_role(self) -> Message:
        parts = () if isinstance(self.content, str) else self.content
        if self.role == "tool":
            if not parts or not all(isinstance(p, ToolResultPart) for p in parts):
                raise ValueError("a tool turn holds tool results (ToolResultPart) only")
        elif any(isinstance(p, ToolResultPart) for p in parts):
            raise ValueError("tool results belong in a 'tool' turn")
        if self.role != "assistant" and any(isinstance(p, ToolCallPart) for p in parts):
            raise ValueError("tool calls belong in an 'assistant' turn")
        return self

    @property
    def tool_calls(self) -> tuple[ToolCallPart, ...]:
        """The tool calls of an assistant turn."""
        if isinstance(self.content, str):
            return ()
        return tuple(p for p in self.content if isinstance(p, ToolCallPart))

    @property
    def text(self) -> str:
        """The message's text (its text parts, when it has parts)."""
        return text_of(self.content)


class Request(BaseModel):
    """Everything a provider needs to answer one call.

    ``messages`` never holds the system prompt: it lives in ``system``, because the three
    providers carry it in three different places.
    """

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...]
    system: str | None = None
    task_type: TaskType = TaskType.TEXT_GENERATION
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0)
    stop: tuple[str, ...] | None = None
    response_format: dict[str, Any] | None = None
    #: Tools the model may call, and which it must (``auto``, ``none``, ``required`` or a
    #: tool's name; None: the provider's default).
    tools: tuple[Tool, ...] = ()
    tool_choice: str | None = None
    #: Thinking before answering (None: the model's default).
    reasoning: Reasoning | None = None
    #: Provider options (``top_p``, ``seed`` ...; a provider's name for its own): see
    #: :mod:`llm_dispatch.provider_options`.
    options: dict[str, Any] = Field(default_factory=dict)
    #: The decorated function's other arguments as rendered into the prompt: a cache hit
    #: needs them equal, not similar.
    arguments: dict[str, str] = Field(default_factory=dict)
    # Values stages read, never sent to a provider: ``cache_scope`` (the cache's tenant
    # scope), ``embedding_fields`` (metadata signed into this one call's stream), ids such
    # as ``trace_id``. A key naming something a provider is sent (``seed``, ``temperature``,
    # ``images``, ``tools`` ...) is refused before anything is sent.
    extra: dict[str, Any] = Field(default_factory=dict)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # A call's options can carry credentials (``extra_headers``): the repr hides them.
        for name, value in super().__repr_args__():
            yield name, redacted_mapping(value) if name in ("options", "extra") else value

    @field_validator("messages")
    @classmethod
    def _not_empty(cls, v: tuple[Message, ...]) -> tuple[Message, ...]:
        if not v:
            raise ValueError("a request needs at least one message")
        return v

    @property
    def prompt(self) -> str:
        """The text of the last user message: what the call is asking now."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text
        return self.messages[-1].text

    @property
    def modalities(self) -> frozenset[Modality]:
        """What the request sends besides text (``text`` always included)."""
        return modalities_of(m.content for m in self.messages)

    @property
    def is_continuation(self) -> bool:
        """True when the last turn is the assistant's unfinished answer, to be continued."""
        return self.messages[-1].role == "assistant"

    def with_assistant_prefix(self, partial: str) -> Request:
        """A copy whose last turn is ``partial`` as the assistant's unfinished answer."""
        return self.model_copy(
            update={"messages": (*self.messages, Message(role="assistant", content=partial))}
        )
