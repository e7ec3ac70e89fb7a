"""Running a model's tool calls and asking again, until it answers in text.

``run_tools(stream)`` takes a call that was not started yet (``stream_fn("...")`` of a
decorated function whose tools are Python functions, or a ``Client.open`` call) and returns a
:class:`ToolLoop`. Iterating it streams every step as the call would (``str`` chunks, or
chunk dicts with their ``kind``): the first answer; then, while an answer ends in tool
calls, each call is run (a coroutine function is awaited, any other function runs in a
worker thread), its result (``str`` as it is, anything else as JSON) becomes a tool result,
and the conversation so far (the assistant's turn with its reasoning and calls, then the
results) is sent again, through the same dispatcher, policies, stages and cache. A
``tool_choice`` that forces a call (``"required"`` or a tool's name) applies to the first
answer only: the requests after it say ``"auto"``, else the model could never answer in
text.

A tool that raises becomes an error result (``is_error``, the exception's type and message)
for the model to read; the loop goes on. A call to a tool without a Python function, or an
answer still calling tools after ``max_steps`` answers, is a :class:`ToolLoopError`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator
from typing import Any, Generic

from .content import Part, TextPart, ToolResultPart
from .errors import LLMDispatchError
from .request import Message, Request
from .result import DispatchStream, T
from .tools import Tool, ToolCall

__all__ = ["ToolLoop", "ToolLoopError", "run_tools"]


class ToolLoopError(LLMDispatchError, RuntimeError):
    """The tool loop cannot go on. ``steps`` are the answers streamed so far."""

    def __init__(self, message: str, steps: list[DispatchStream[Any]]) -> None:
        self.steps = steps
        super().__init__(message)


class ToolLoop(Generic[T]):
    """The steps of a tool-using call (see the module docstring). After iteration,
    :attr:`result` is the last answer's stream and :attr:`steps` every answer's."""

    def __init__(self, first: DispatchStream[T], max_steps: int) -> None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, not {max_steps}")
        self._next: DispatchStream[T] | None = first
        self.max_steps = max_steps
        self.steps: list[DispatchStream[T]] = []

    @property
    def result(self) -> DispatchStream[T]:
        """The last answer's stream (its text, usage, tool calls ...)."""
        if not self.steps:
            raise RuntimeError("the tool loop has not run yet")
        return self.steps[-1]

    async def __aiter__(self) -> AsyncIterator[T]:
        while self._next is not None:
            stream, self._next = self._next, None
            self.steps.append(stream)
            async for item in stream:
                yield item
            calls = stream.tool_calls
            if not calls:
                return
            if len(self.steps) >= self.max_steps:
                raise ToolLoopError(
                    f"the model still calls tools after {self.max_steps} answers "
                    f"({', '.join(c.name for c in calls)}); raise max_steps or answer them "
                    "yourself",
                    list(self.steps),
                )
            self._next = stream.follow_up(await _next_request(stream, calls, self.steps))

    async def collect(self) -> ToolLoop[T]:
        """Run the loop to its end and return it."""
        async for _ in self:
            pass
        return self


def run_tools(stream: DispatchStream[T], *, max_steps: int = 8) -> ToolLoop[T]:
    """The :class:`ToolLoop` of ``stream`` (not started yet), at most ``max_steps`` answers."""
    return ToolLoop(stream, max_steps)


async def _next_request(
    stream: DispatchStream[Any], calls: tuple[ToolCall, ...], steps: list[DispatchStream[Any]]
) -> Request:
    """The conversation so far, with the answer's turn and the results of its calls."""
    ctx = stream.context
    request = ctx.request
    tools = {tool.name: tool for tool in request.tools}
    answer: list[Part] = [TextPart(text=ctx.raw_text)] if ctx.raw_text else []
    answer.extend(ctx.extras.assistant_parts(stream.provider_kind))
    results = [await _run(tools[c.name], c, list(steps)) for c in calls]
    messages = (
        *request.messages,
        Message(role="assistant", content=tuple(answer)),
        Message(role="tool", content=tuple(results)),
    )
    update: dict[str, Any] = {"messages": messages}
    if request.tool_choice not in (None, "auto", "none"):
        update["tool_choice"] = "auto"
    return request.model_copy(update=update)


async def _run(tool: Tool, call: ToolCall, steps: list[DispatchStream[Any]]) -> ToolResultPart:
    """Run one call; its result, or an error result when the tool raised."""
    function = tool.function
    if function is None:
        raise ToolLoopError(
            f"the model called {tool.name!r}, which has no Python function to run; "
            "handle its tool calls yourself (stream.tool_calls)",
            steps,
        )
    # The arguments as the function's own types (the call holds their JSON form).
    kwargs = dict(tool.model.model_validate(call.arguments)) if tool.model else call.arguments
    try:
        if inspect.iscoroutinefunction(function):
            value = await function(**kwargs)
        else:
            value = await asyncio.to_thread(function, **kwargs)
        if inspect.isawaitable(value):
            value = await value
    except Exception as exc:
        return ToolResultPart(
            tool_call_id=call.id, name=call.name, content=f"{type(exc).__name__}: {exc}",
            is_error=True,
        )  # fmt: skip
    content = value if isinstance(value, str) else json.dumps(value, default=str)
    return ToolResultPart(tool_call_id=call.id, name=call.name, content=content)
