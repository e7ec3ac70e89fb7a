"""How a call to a decorated function becomes a :class:`~llm_dispatch.request.Request`.

Every parameter of the function has a role, decided once when it is decorated; no
argument is dropped:

===========================================  ==================================================
parameter                                    role
===========================================  ==================================================
``prompt_arg=`` names it, else ``prompt``,   the prompt: the user message the call adds
``query``, ``question``, ``text``,
``message`` or ``input``, else the first
parameter annotated ``str``
``messages``                                 a whole conversation (role/content dicts,
                                             :class:`Message` s or (user, assistant) pairs,
                                             text or parts: see :mod:`.conversation`;
                                             system turns join ``system``)
``conversation_history``, ``history``,       earlier turns in the same forms, placed before
``chat_history``                             the prompt
``images`` / ``image``, ``audio``,           media attached to the prompt (see :mod:`.media`)
``documents`` / ``document``
``system``, ``temperature``, ``max_tokens``,  the request field of that name (the decorator's
``stop``, ``response_format``                value is the default)
``tools``, ``tool_choice``, ``reasoning``    the tools the model may call (see :mod:`.tools`),
                                             which it must, how much it thinks (the
                                             decorator's value is the default)
``options``                                  provider options, over the decorator's
anything else, ``**kwargs`` items included   rendered into the prompt, and kept on
                                             ``Request.arguments`` so the cache matches them
                                             exactly
===========================================  ==================================================

Rendering: with ``prompt_template=`` the user message is the template, formatted with the
arguments as named fields (``"Write {language} code: {description}"``); arguments the
template does not name follow as labelled lines. Without a template, the labelled lines
(``language: python``) follow the prompt after a blank line. ``None`` values are left out;
strings, numbers, booleans and enums render as themselves, lists, dicts, pydantic models and
dataclasses as JSON; anything else (bytes, a function, an object without its own ``str``)
is an error at call time that names the argument.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from .arguments import ArgumentMatcher
from .content import Part, TextPart
from .conversation import coerce_messages
from .errors import RequestBindingError
from .media import audio_part, document_part, image_part
from .request import Message, Reasoning, Request
from .task_types import TaskType
from .tools import Tool, check_tool_choice, tools_from

__all__ = [
    "GENERATION_FIELDS",
    "PROMPT_PARAMETER_NAMES",
    "TOOL_FIELDS",
    "RequestBinder",
    "checked_prompt",
    "media_parts",
    "render_value",
    "tool_request_fields",
]

#: Parameter names that hold the prompt, in the order they are looked for.
PROMPT_PARAMETER_NAMES = ("prompt", "query", "question", "text", "message", "input")
#: Request fields read from the function's parameters of the same name.
GENERATION_FIELDS = ("system", "temperature", "max_tokens", "stop", "response_format")

_HISTORY = ("conversation_history", "history", "chat_history")
_MEDIA = {
    "images": "image", "image": "image", "audio": "audio",
    "documents": "document", "document": "document",
}  # fmt: skip
#: Request fields that are converted from what callers pass (tools, the tool choice, the
#: reasoning setting).
TOOL_FIELDS = ("tools", "tool_choice", "reasoning")


def checked_prompt(value: Any, where: str, name: str = "prompt") -> str:
    """``value`` as the prompt text; an empty or whitespace-only one is refused here,
    before anything is sent (providers reject it, or answer an empty question)."""
    text = str(value)
    if not text.strip():
        shown = repr(text) if len(text) <= 20 else f"{len(text)} whitespace characters"
        raise RequestBindingError(f"{where}: the prompt is empty ({name}={shown})")
    return text


def media_parts(name: str, value: Any, where: str) -> list[Part]:
    """The parts an ``images`` / ``audio`` / ``documents`` argument holds (one or a list)."""
    family = _MEDIA[name]
    items = list(value) if isinstance(value, list | tuple) else [value]
    plural = isinstance(value, list | tuple)
    parts: list[Part] = []
    for i, item in enumerate(items):
        label = f"{name}[{i}]" if plural else name
        try:
            if family == "image":
                parts.append(image_part(item, label))
            elif family == "audio":
                parts.append(audio_part(item, label))
            else:
                parts.append(document_part(item, label))
        except RequestBindingError as exc:
            raise RequestBindingError(f"{where}: {exc}") from None
    return parts


def render_value(value: Any, name: str, where: str) -> str:
    """``value`` as prompt text (see the module docstring), or an error naming ``name``."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(dataclasses.asdict(value), ensure_ascii=False, default=str)
    if isinstance(value, list | tuple | dict):
        try:
            return json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            pass
    elif (
        not isinstance(value, bytes | bytearray | memoryview)
        and not callable(value)
        and getattr(type(value), "__str__", None) is not object.__str__
    ):
        return str(value)
    raise RequestBindingError(
        f"{where}: argument {name!r} is a {type(value).__name__}, which cannot be written "
        "into the prompt; pass text, numbers or JSON-like values"
        + (" (media goes in images=, audio= or documents=)" if isinstance(value, bytes) else "")
    )


class RequestBinder:
    """Turns the arguments of a call to a decorated function into a :class:`Request`.

    Built once per decorated function (the roles of its parameters are decided then);
    :meth:`bind` runs on every call.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        task_type: TaskType,
        prompt_arg: str | None = None,
        prompt_template: str | None = None,
        defaults: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        self.func_name: str = name or getattr(func, "__qualname__", None) or repr(func)
        self.signature = _signature(func)
        self._arguments_of = ArgumentMatcher(self.signature).values
        self.task_type = task_type
        self.defaults = dict(defaults or {})
        params = self.signature.parameters
        names = list(params)
        if prompt_arg is not None and prompt_arg not in names:
            raise RequestBindingError(
                f"{self.func_name}: prompt_arg={prompt_arg!r} is not a parameter "
                f"(parameters: {', '.join(names) or 'none'})"
            )
        self.prompt_arg = (
            prompt_arg
            or next((n for n in PROMPT_PARAMETER_NAMES if n in names), None)
            or next((n for n, p in params.items() if p.annotation in (str, "str")), None)
        )
        self.template = prompt_template
        self.template_fields = _template_fields(prompt_template, names, self.func_name)
        taken = {self.prompt_arg, "messages", "options", *_HISTORY, *_MEDIA, *GENERATION_FIELDS}
        self.rendered = [n for n in names if n not in taken and n not in TOOL_FIELDS]

    def bind(
        self, args: Sequence[Any], kwargs: Mapping[str, Any], *, task_type: TaskType | None = None
    ) -> Request:
        """The request of one call (``task_type``: this call's, instead of the binder's)."""
        where = f"{self.func_name}()"
        try:
            values = self._arguments_of(args, kwargs)
        except TypeError as exc:
            raise RequestBindingError(f"{where}: {exc}") from None
        turns, system = self._conversation(values, where)
        arguments = self._arguments(values, where)
        prompt_text = self._prompt_text(values, arguments, where)
        media = [
            part
            for name in _MEDIA
            if values.get(name) is not None
            for part in media_parts(name, values[name], where)
        ]
        if prompt_text is not None:
            content: str | tuple[Part, ...] = (
                (TextPart(text=prompt_text), *media) if media else prompt_text
            )
            turns = (*turns, Message(role="user", content=content))
        elif media:
            turns = _attach(turns, media, where)
        if not turns:
            raise _no_prompt(where)
        fields = {**self._fields(values, system), **self._tool_fields(values, where)}
        options = {**(self.defaults.get("options") or {}), **(values.get("options") or {})}
        try:
            return Request(
                messages=turns,
                task_type=task_type or self.task_type,
                options=options,
                arguments=arguments,
                **fields,
            )
        except ValueError as exc:
            raise RequestBindingError(f"{where}: invalid request: {exc}") from None

    # -- steps --------------------------------------------------------------------------

    def _conversation(
        self, values: Mapping[str, Any], where: str
    ) -> tuple[tuple[Message, ...], str | None]:
        turns: tuple[Message, ...] = ()
        systems: list[str] = []
        for name in ("messages", *_HISTORY):
            if values.get(name):
                more, system = coerce_messages(values[name], where, name)
                turns = (*turns, *more)
                if system:
                    systems.append(system)
        return turns, ("\n\n".join(systems) if systems else None)

    def _arguments(self, values: Mapping[str, Any], where: str) -> dict[str, str]:
        """The other arguments, rendered, in signature order (``**kwargs`` spread out)."""
        rendered: dict[str, str] = {}
        for name in self.rendered:
            value = values.get(name)
            kind = self.signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                items = list((value or {}).items())
            elif kind is inspect.Parameter.VAR_POSITIONAL:
                items = [(name, list(value))] if value else []
            else:
                items = [(name, value)]
            for key, item in items:
                if item is not None:
                    rendered[key] = render_value(item, key, where)
        return rendered

    def _prompt_text(
        self, values: Mapping[str, Any], arguments: dict[str, str], where: str
    ) -> str | None:
        prompt = values.get(self.prompt_arg) if self.prompt_arg else None
        if self.template is None:
            if prompt is None:
                if arguments and values.get("messages") is None:
                    raise _no_prompt(where, f" to write {', '.join(arguments)} after")
                return None
            text = checked_prompt(prompt, where, self.prompt_arg or "prompt")
            return _with_lines(text, arguments)
        fields = dict(arguments)
        if self.prompt_arg is not None and prompt is not None:
            fields[self.prompt_arg] = checked_prompt(prompt, where, self.prompt_arg)
        missing = [f for f in self.template_fields if f not in fields]
        if missing:
            raise RequestBindingError(
                f"{where}: prompt_template names {', '.join(missing)}, which this call "
                "leaves empty (None)"
            )
        text = self.template.format_map(fields)
        rest = {k: v for k, v in arguments.items() if k not in self.template_fields}
        return _with_lines(checked_prompt(text, where, "prompt_template"), rest)

    def _tool_fields(self, values: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The tools, tool choice and reasoning of the call (its own, else the decorator's)."""
        found = {n: self._value_or_default(values, n) for n in TOOL_FIELDS}
        return tool_request_fields(**found, where=where)

    def _value_or_default(self, values: Mapping[str, Any], name: str) -> Any:
        """The call's value for request field ``name``; the decorator's when the call leaves
        it unset (None)."""
        value = values.get(name)
        return value if value is not None else self.defaults.get(name)

    def _fields(self, values: Mapping[str, Any], system: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name in GENERATION_FIELDS:
            value = self._value_or_default(values, name)
            if value is not None:
                fields[name] = value
        if system is not None:
            fields["system"] = f"{system}\n\n{fields['system']}" if fields.get("system") else system
        if isinstance(fields.get("stop"), str):
            fields["stop"] = (fields["stop"],)
        return fields


def tool_request_fields(
    *, tools: Any = None, tool_choice: Any = None, reasoning: Any = None, where: str
) -> dict[str, Any]:
    """The ``tools`` / ``tool_choice`` / ``reasoning`` request fields of what a caller
    passed (None: not set), each checked; a :class:`RequestBindingError` naming ``where``
    and the argument otherwise."""
    fields: dict[str, Any] = {}
    offered: tuple[Tool, ...] = ()
    if tools is not None:
        offered = tools_from(tools, f"{where}: tools")
        fields["tools"] = offered
    if tool_choice is not None:
        fields["tool_choice"] = check_tool_choice(tool_choice, offered, f"{where}: tool_choice")
    if reasoning is not None:
        try:
            fields["reasoning"] = Reasoning.of(reasoning)
        except ValidationError as exc:
            detail = "; ".join(e["msg"] for e in exc.errors(include_url=False))
            raise RequestBindingError(f"{where}: reasoning={reasoning!r}: {detail}") from None
        except TypeError as exc:
            raise RequestBindingError(f"{where}: {exc}") from None
    return fields


def _no_prompt(where: str, detail: str = "") -> RequestBindingError:
    looked_for = ", ".join(repr(n) for n in (*PROMPT_PARAMETER_NAMES, "messages"))
    return RequestBindingError(
        f"{where}: cannot find the prompt{detail}. Name a parameter {looked_for}, annotate "
        "one `str`, or pass prompt_arg='<parameter>' (or prompt_template=) to the decorator."
    )


def _signature(func: Callable[..., Any]) -> inspect.Signature:
    try:
        return inspect.signature(func, eval_str=True)
    except (NameError, SyntaxError, TypeError):
        # Annotations that name something not importable here: read them as text.
        return inspect.signature(func)


def _template_fields(template: str | None, names: list[str], func_name: str) -> tuple[str, ...]:
    """The parameters ``template`` names; a name that is not a parameter is an error now."""
    if template is None:
        return ()
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise RequestBindingError(f"{func_name}: prompt_template is malformed: {exc}") from None
    unknown = [f for f in fields if f == "" or f not in names]
    if unknown:
        raise RequestBindingError(
            f"{func_name}: prompt_template names {', '.join(repr(f) for f in unknown)}, "
            f"which is not a parameter (parameters: {', '.join(names) or 'none'})"
        )
    return tuple(dict.fromkeys(fields))


def _with_lines(text: str, arguments: Mapping[str, str]) -> str:
    if not arguments:
        return text
    lines = "\n".join(f"{name}: {value}" for name, value in arguments.items())
    return f"{text}\n\n{lines}"


def _attach(turns: tuple[Message, ...], media: list[Part], where: str) -> tuple[Message, ...]:
    """``media`` added to the last user message of ``turns`` (when the call has no prompt)."""
    for i in range(len(turns) - 1, -1, -1):
        message = turns[i]
        if message.role == "user":
            content = message.content
            parts = (TextPart(text=content),) if isinstance(content, str) else content
            updated = Message(role="user", content=(*parts, *media))
            return (*turns[:i], updated, *turns[i + 1 :])
    raise RequestBindingError(
        f"{where}: media was given but there is no user message to attach it to"
    )
