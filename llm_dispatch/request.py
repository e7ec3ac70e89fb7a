"""The provider-neutral request, and how a decorated call is turned into one."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .content import Content, Modality, modalities_of, text_of
from .errors import RequestBindingError
from .task_types import TaskType

__all__ = ["PROMPT_PARAMETER_NAMES", "Message", "Request", "RequestBinder"]

# Parameter names that hold the prompt, in the order they are looked for.
PROMPT_PARAMETER_NAMES = ("prompt", "query", "question", "text", "message", "input")

# Generation parameters read from the decorated function's parameters of the same name.
GENERATION_FIELDS = ("system", "temperature", "max_tokens", "stop", "response_format")


class Message(BaseModel):
    """One chat turn: its role, and its content (text, or parts: see :mod:`.content`)."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: Content

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
    #: Provider options (``top_p``, ``seed`` ...; a provider's name for its own): see
    #: :mod:`llm_dispatch.provider_options`.
    options: dict[str, Any] = Field(default_factory=dict)
    #: The decorated function's other arguments as rendered into the prompt: a cache hit
    #: needs them equal, not similar.
    arguments: dict[str, str] = Field(default_factory=dict)
    # Free-form values stages read: ``cache_scope`` (the cache's tenant scope) and
    # ``embedding_fields`` (metadata signed into this one call's stream).
    extra: dict[str, Any] = Field(default_factory=dict)

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


def checked_prompt(value: Any, where: str, name: str = "prompt") -> str:
    """``value`` as the prompt text; an empty or whitespace-only one is refused here,
    before anything is sent (providers reject it, or answer an empty question)."""
    text = str(value)
    if not text.strip():
        shown = repr(text) if len(text) <= 20 else f"{len(text)} whitespace characters"
        raise RequestBindingError(f"{where}: the prompt is empty ({name}={shown})")
    return text


def coerce_messages(value: Any, where: str) -> tuple[tuple[Message, ...], str | None]:
    """Split OpenAI-style message dicts into turns and a system prompt."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise RequestBindingError(f"{where}: 'messages' must be a list of role/content dicts")
    system_parts: list[str] = []
    turns: list[Message] = []
    for i, item in enumerate(value):
        data = item.model_dump() if isinstance(item, BaseModel) else item
        if not isinstance(data, Mapping) or "role" not in data or "content" not in data:
            raise RequestBindingError(
                f"{where}: messages[{i}] must be a dict with 'role' and 'content'"
            )
        if data["role"] == "system":
            system_parts.append(str(data["content"]))
            continue
        if data["role"] not in ("user", "assistant"):
            raise RequestBindingError(
                f"{where}: messages[{i}] has role {data['role']!r}; "
                "expected 'system', 'user' or 'assistant'"
            )
        content = str(data["content"])
        if not content.strip():
            raise RequestBindingError(f"{where}: messages[{i}] has empty content")
        turns.append(Message(role=data["role"], content=content))
    return tuple(turns), ("\n\n".join(system_parts) if system_parts else None)


class RequestBinder:
    """Turns the arguments of a call to a decorated function into a :class:`Request`.

    Built once per decorated function; :meth:`bind` runs on every call.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        task_type: TaskType,
        prompt_arg: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.func_name = getattr(func, "__qualname__", repr(func))
        self.signature = inspect.signature(func)
        self.task_type = task_type
        self.defaults = dict(defaults or {})
        names = list(self.signature.parameters)
        if prompt_arg is not None and prompt_arg not in names:
            raise RequestBindingError(
                f"{self.func_name}: prompt_arg={prompt_arg!r} is not a parameter "
                f"(parameters: {', '.join(names) or 'none'})"
            )
        self.prompt_arg = prompt_arg
        self.messages_arg = "messages" if "messages" in names else None
        if prompt_arg is None:
            self.prompt_arg = next((n for n in PROMPT_PARAMETER_NAMES if n in names), None)

    def bind(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Request:
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise RequestBindingError(f"{self.func_name}(): {exc}") from None
        bound.apply_defaults()
        values = bound.arguments
        where = f"{self.func_name}()"

        system: str | None = None
        messages: tuple[Message, ...] = ()
        raw_messages = values.get(self.messages_arg) if self.messages_arg else None
        if raw_messages:
            messages, system = coerce_messages(raw_messages, where)
        prompt = values.get(self.prompt_arg) if self.prompt_arg else None
        if prompt is not None:
            assert self.prompt_arg is not None
            text = checked_prompt(prompt, where, self.prompt_arg)
            messages = (*messages, Message(role="user", content=text))
        if not messages:
            looked_for = ", ".join(repr(n) for n in (*PROMPT_PARAMETER_NAMES, "messages"))
            raise RequestBindingError(
                f"{where}: cannot find the prompt. Name a parameter {looked_for}, "
                "or pass prompt_arg='<parameter>' to the decorator."
            )

        fields: dict[str, Any] = {}
        for name in GENERATION_FIELDS:
            value = values.get(name, self.defaults.get(name))
            if value is not None:
                fields[name] = value
        if system is not None:
            fields["system"] = f"{system}\n\n{fields['system']}" if fields.get("system") else system
        if isinstance(fields.get("stop"), str):
            fields["stop"] = (fields["stop"],)
        try:
            return Request(messages=messages, task_type=self.task_type, **fields)
        except ValueError as exc:
            raise RequestBindingError(f"{where}: invalid request: {exc}") from None
