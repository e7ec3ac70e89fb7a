"""The decorated function's own body, as a provider named ``function``.

Routing can list it like any other provider (as the only target in tests, or as the
last-resort fallback); it then streams what the body yields through the same stages. The body
may yield ``str`` chunks, or dicts with a ``chunk`` key (the shape seed examples of
``llm_stream_with_metadata`` yield).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

from ..errors import BadRequestError, ProviderError, ServerError, redact
from ..events import ProviderEvent
from ..request import Request
from .base import Provider, ProviderSettings

__all__ = ["FUNCTION_PROVIDER", "FunctionProvider"]

FUNCTION_PROVIDER = "function"


class FunctionProvider(Provider):
    """Streams the body of one decorated call (built per call: it holds the call's args)."""

    def __init__(
        self,
        body: Callable[..., AsyncGenerator[Any, None]],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        name: str = FUNCTION_PROVIDER,
    ) -> None:
        super().__init__(ProviderSettings(name=name, kind="function"))
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
        gen = self._body(*self._args, **self._kwargs)
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


def _chunk_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping) and isinstance(item.get("chunk"), str):
        return str(item["chunk"])
    raise TypeError(
        f"the decorated body yielded {type(item).__name__}; "
        "yield str chunks (or dicts with a 'chunk' key)"
    )
