"""Errors about what the model produced, once its stream completed: a tool call whose
arguments do not fit the tool, or a structured answer that does not fit its model.

Both are :class:`~llm_dispatch.errors.LLMDispatchError` s and ``ValueError`` s, raised at
the end of the stream (everything streamed before was delivered), carrying what was
produced and what is wrong with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import LLMDispatchError

if TYPE_CHECKING:
    from .tools import ToolCall

__all__ = ["InvalidToolCallError", "StructuredOutputError"]


class InvalidToolCallError(LLMDispatchError, ValueError):
    """A tool call names no offered tool, or its arguments are not JSON or do not fit the
    tool's schema. ``name``, ``call_id`` and ``arguments_text`` are what the model sent;
    ``problem`` says what is wrong; ``tool_calls`` holds the answer's calls that were valid."""

    def __init__(
        self,
        *,
        name: str,
        call_id: str,
        arguments_text: str,
        problem: str,
        tool_calls: tuple[ToolCall, ...] = (),
    ) -> None:
        self.name = name
        self.call_id = call_id
        self.arguments_text = arguments_text
        self.problem = problem
        self.tool_calls = tool_calls
        super().__init__(
            f"tool call {call_id} to {name!r} is not valid: {problem}; "
            "its arguments text is on .arguments_text"
        )


class StructuredOutputError(LLMDispatchError, ValueError):
    """The answer does not fit ``response_model``: ``text`` is the answer, ``errors`` the
    validation errors (pydantic's, without the input values)."""

    def __init__(self, model: type[Any], text: str, errors: list[dict[str, Any]]) -> None:
        self.model = model
        self.text = text
        self.errors = errors
        summary = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())) or 'answer'}: {e.get('msg', '')}"
            for e in errors[:5]
        )
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(
            f"the answer does not fit {model.__name__}: {summary}{more}; the text is on .text"
        )
