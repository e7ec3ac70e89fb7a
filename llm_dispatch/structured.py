"""Typed structured output: ``response_model=SomeModel`` on a call.

- :func:`response_format_for` is the request's ``response_format``: the model's JSON schema
  in OpenAI's ``json_schema`` shape, which each provider sends natively (see
  ``docs/streaming.md``, JSON mode).
- :class:`StructuredOutputStage` reads the answer as it streams (the provider's text, before
  any stage changed it). After each chunk it parses the JSON so far, tolerating the cut
  (pydantic-core's partial JSON, without a number that may still grow), and validates it
  against :func:`partial_model` (the same model with every field optional, nested models
  too): the result is the stream's ``partial`` when it changed. When the stream completed,
  the whole answer is validated against the model itself: ``parsed``, or
  :class:`~llm_dispatch.output_errors.StructuredOutputError` with the text and the errors.
"""

from __future__ import annotations

import re
import types
import typing
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Optional, Union

import pydantic_core
from pydantic import BaseModel, ValidationError, create_model

from .output_errors import StructuredOutputError
from .stages.base import Stage

if TYPE_CHECKING:
    from .context import StreamContext

__all__ = [
    "PARSED",
    "PARTIAL",
    "StructuredOutputStage",
    "parse_partial_json",
    "partial_model",
    "response_format_for",
    "structured_format",
]

#: ``StreamContext.values`` keys: the latest partial object (a ``partial_model`` instance)
#: and whether it changed with the last chunk; the final parsed object.
PARTIAL, PARTIAL_CHANGED, PARSED = "structured.partial", "structured.changed", "structured.parsed"

# The end of a text that stops inside a number, or a literal still being written.
_OPEN_SCALAR = re.compile(r"(-?\d[\d.eE+-]*|-|t|tr|tru|f|fa|fal|fals|n|nu|nul)\s*$")


def response_format_for(model: type[BaseModel]) -> dict[str, Any]:
    """``model`` as a ``json_schema`` response format."""
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": model.model_json_schema()},
    }


def structured_format(model: Any, response_format: Any, where: str) -> dict[str, Any]:
    """The ``response_format`` of a call with ``response_model=model``; a ``TypeError``
    naming ``where`` when ``model`` is no pydantic model or a format is given too."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{where}: response_model must be a pydantic model class, not {model!r}")
    if response_format is not None:
        raise TypeError(
            f"{where}: give response_model or response_format, not both "
            "(response_model sends its own JSON schema)"
        )
    return response_format_for(model)


@lru_cache(maxsize=128)
def partial_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` with every field optional (default None), nested models made partial too,
    for validating an answer that is still streaming."""
    fields: dict[str, Any] = {
        name: (Optional[_partial_annotation(info.annotation)], None)  # noqa: UP045
        for name, info in model.model_fields.items()
    }
    partial: type[BaseModel] = create_model(f"Partial{model.__name__}", **fields)
    return partial


def _partial_annotation(annotation: Any) -> Any:
    """``annotation`` with every model in it made partial (lists, dicts, unions of them)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return partial_model(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if not args or origin is None:
        return annotation
    inner = tuple(_partial_annotation(a) for a in args)
    if origin in (Union, types.UnionType):
        return Union[inner]  # noqa: UP007
    if origin in (list, tuple, set, frozenset, dict):
        return origin.__class_getitem__(inner if len(inner) > 1 else inner[0])
    return annotation


def parse_partial_json(text: str) -> Any:
    """The JSON value ``text`` (JSON cut anywhere) holds so far: what is complete of it, a
    string still being written included, a number or literal still being written left out.
    None when nothing can be read yet (or ``text`` is not JSON)."""
    cut = text if _inside_string(text) else _OPEN_SCALAR.sub("", text)
    if not cut.strip():
        return None
    try:
        return pydantic_core.from_json(cut, allow_partial="trailing-strings")
    except ValueError:
        return None


def parse_partial(model: type[BaseModel], text: str) -> BaseModel | None:
    """The partial object ``text`` (an answer cut anywhere) holds, or None when it holds
    nothing yet or does not fit the model's shape."""
    value = parse_partial_json(text)
    if not isinstance(value, dict):
        return None
    try:
        return partial_model(model).model_validate(value)
    except ValidationError:
        return None


def _inside_string(text: str) -> bool:
    """Whether ``text`` ends inside a JSON string (an odd number of unescaped quotes)."""
    inside = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = inside
        elif ch == '"':
            inside = not inside
    return inside


class StructuredOutputStage(Stage):
    """Follows and finally validates a structured answer (see the module docstring)."""

    name = "structured_output"

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        partial = parse_partial(self.model, ctx.raw_text)
        changed = partial is not None and partial != ctx.values.get(PARTIAL)
        if changed:
            ctx.values[PARTIAL] = partial
        ctx.values[PARTIAL_CHANGED] = changed
        return text

    async def on_end(self, ctx: StreamContext) -> str:
        text = ctx.raw_text
        try:
            ctx.values[PARSED] = self.model.model_validate_json(text)
        except ValidationError as exc:
            errors = [dict(e) for e in exc.errors(include_url=False, include_input=False)]
            raise StructuredOutputError(self.model, text, errors) from None
        return ""
