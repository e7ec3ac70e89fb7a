"""The decorated function's own body, as a provider named ``function``.

Routing can list it like any other provider (as the only target in tests, or as the
last-resort fallback); it then streams what the body produces through the same stages. An
async generator body may yield ``str`` chunks, or dicts with a ``chunk`` key (the shape
``llm_stream_with_metadata`` bodies often yield); a coroutine body (``async def f(prompt):
return prompt``) returns one string, streamed as one chunk.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from ..errors import BadRequestError, ProviderError, ServerError
from ..events import ProviderEvent
from ..redaction import redact
from ..request import Request
from .base import Provider, ProviderSettings

__all__ = ["FUNCTION_MODEL", "FUNCTION_PROVIDER", "FunctionProvider"]

#: The provider name (and kind) of the decorated function's body.
FUNCTION_PROVIDER = "function"
#: The model name a ``function`` target gets when its provider declares none.
FUNCTION_MODEL = "body"


class FunctionProvider(Provider):
    """Streams the body of one decorated call (built per call: it holds the call's args)."""

    def __init__(
        self,
        body: Callable[..., AsyncGenerator[Any, None] | Awaitable[Any]],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        name: str = FUNCTION_PROVIDER,
    ) -> None:
        super().__init__(ProviderSettings(name=name, kind=FUNCTION_PROVIDER))
        self._body = body
        self._args = tuple(args)
        self._kwargs = dict(kwargs)

    async def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        if request.messages[-1].role == "assistant":
            # The body cannot continue someone else's partial answer: it would start over
            # and repeat text the consumer already has.
            raise BadRequestError(
                "the function provider cannot continue a partial answer",
                provider=self.name,
                model=model,
            )
        produced = self._body(*self._args, **self._kwargs)
        if inspect.isawaitable(produced):
            try:
                text = _returned_text(await produced)
            except ProviderError:
                raise
            except Exception as exc:
                raise self.map_error(exc, model) from exc
            if text:
                yield ProviderEvent(text=text)
            yield ProviderEvent(finish_reason="stop")
            return
        gen = produced
        try:
            async for item in gen:
                text = _chunk_text(item)
                if text:
                    yield ProviderEvent(text=text)
        except ProviderError:
            raise
        except Exception as exc:
            raise self.map_error(exc, model) from exc
        finally:
            await gen.aclose()
        yield ProviderEvent(finish_reason="stop")

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        return ServerError(
            redact(f"{type(exc).__name__} in the decorated body: {exc}"),
            provider=self.name,
            model=model,
        )


def _returned_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(
        f"the decorated coroutine returned {type(value).__name__}; return the answer as a str"
    )


def _chunk_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping) and isinstance(item.get("chunk"), str):
        return str(item["chunk"])
    raise TypeError(
        f"the decorated body yielded {type(item).__name__}; "
        "yield str chunks (or dicts with a 'chunk' key)"
    )
