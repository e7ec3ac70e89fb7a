"""LangChain-style token handlers, without depending on LangChain.

Any object with some of ``on_llm_start(serialized, prompts, **kw)``,
``on_llm_new_token(token, **kw)``, ``on_llm_end(response, **kw)`` and
``on_llm_error(error, **kw)`` can be passed as a callback — a LangChain
``BaseCallbackHandler`` / ``AsyncCallbackHandler`` subclass included. Its ``raise_error``
and ``ignore_llm`` attributes are honoured as LangChain does. Keyword arguments
(``run_id`` — the request id as a UUID — and, for ``on_llm_start``, ``metadata`` and
``invocation_params``) are passed only to methods that accept them.

:class:`StreamHandler` forwards every token to one function, ``on_token``.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .listener import Listener

if TYPE_CHECKING:
    from ..context import StreamContext
    from .events import StreamSummary

__all__ = ["LANGCHAIN_METHODS", "LangChainListener", "StreamHandler", "is_langchain_handler"]

LANGCHAIN_METHODS = ("on_llm_start", "on_llm_new_token", "on_llm_end", "on_llm_error")


class StreamHandler:
    """Forwards each token to ``on_token(token)`` (sync or async), as it arrives.

    Subclass it to add ``on_llm_start`` / ``on_llm_end`` / ``on_llm_error``; pass it as
    ``callbacks=`` (alone or in a list).
    """

    #: LangChain's flag: re-raise what ``on_token`` raises instead of logging it.
    raise_error: bool = False

    def __init__(self, on_token: Callable[[str], Any]) -> None:
        if not callable(on_token):
            raise TypeError(
                f"StreamHandler(on_token=...) takes a function called with each token; "
                f"got {type(on_token).__name__}, which cannot be called"
            )
        if inspect.isgeneratorfunction(on_token) or inspect.isasyncgenfunction(on_token):
            # Calling it would only create a generator: its body, and every token, is lost.
            raise TypeError(
                f"StreamHandler(on_token=...): {getattr(on_token, '__qualname__', on_token)} "
                "is a generator function, so calling it with a token runs none of its body; "
                "pass a function that handles the token (a queue's put, a list's append, "
                "an async send) and yield from what it fills"
            )
        self.on_token = on_token

    def on_llm_new_token(self, token: str, **kwargs: Any) -> Any:
        """Called with every chunk's text; returns what ``on_token`` returns (awaited when
        it is a coroutine)."""
        return self.on_token(token)


def is_langchain_handler(obj: object) -> bool:
    return any(callable(getattr(obj, name, None)) for name in LANGCHAIN_METHODS)


class _Method:
    """One handler method and the keyword arguments it can take."""

    __slots__ = ("fn", "names", "takes_any")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        parameters: list[inspect.Parameter] = []
        try:
            parameters = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            # No signature to read (some builtins): offer everything, as to a **kwargs.
            self.takes_any = True
        else:
            self.takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
        self.names = frozenset(
            p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL
        )

    def kwargs(self, offered: dict[str, Any]) -> dict[str, Any]:
        if self.takes_any:
            return offered
        return {k: v for k, v in offered.items() if k in self.names}


class LangChainListener(Listener):
    """Drives a LangChain-style handler: start, one call per chunk, end or error."""

    def __init__(self, handler: object) -> None:
        super().__init__(raise_error=bool(getattr(handler, "raise_error", False)))
        self.handler = handler
        ignored = bool(getattr(handler, "ignore_llm", False))
        self._methods: dict[str, _Method] = {}
        for name in LANGCHAIN_METHODS:
            fn = getattr(handler, name, None)
            if callable(fn) and not ignored:
                self._methods[name] = _Method(fn)
        token = self._methods.get("on_llm_new_token")
        self.wants_chunks = token is not None
        # The per-token keyword arguments depend only on the method: decide them once.
        self._token_takes_run_id = token is not None and (
            token.takes_any or "run_id" in token.names
        )

    @staticmethod
    def _run_id(ctx: StreamContext) -> uuid.UUID:
        run_id = ctx.values.get("langchain_run_id")
        if run_id is None:
            run_id = ctx.values["langchain_run_id"] = uuid.UUID(hex=ctx.request_id)
        return run_id

    async def start(self, ctx: StreamContext) -> None:
        method = self._methods.get("on_llm_start")
        if method is None:
            return
        serialized = {"name": ctx.provider, "provider": ctx.provider, "model": ctx.model}
        offered = {
            "run_id": self._run_id(ctx),
            "metadata": {"task_type": ctx.task_type, "request_id": ctx.request_id},
            "invocation_params": {
                "model": ctx.model,
                "max_tokens": ctx.request.max_tokens,
                "temperature": ctx.request.temperature,
            },
        }
        await self.call(ctx, method.fn, serialized, [ctx.request.prompt], **method.kwargs(offered))

    async def chunk(self, ctx: StreamContext, text: str, index: int) -> None:
        method = self._methods["on_llm_new_token"]
        if self._token_takes_run_id:
            await self.call(ctx, method.fn, text, run_id=self._run_id(ctx))
        else:
            await self.call(ctx, method.fn, text)

    async def end(self, ctx: StreamContext, summary: StreamSummary) -> None:
        method = self._methods.get("on_llm_end")
        if method is not None:
            offered = {"run_id": self._run_id(ctx)}
            await self.call(ctx, method.fn, summary, **method.kwargs(offered))

    async def error(self, ctx: StreamContext, exc: BaseException) -> None:
        method = self._methods.get("on_llm_error")
        if method is not None:
            offered = {"run_id": self._run_id(ctx)}
            await self.call(ctx, method.fn, exc, **method.kwargs(offered))
