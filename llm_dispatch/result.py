"""What a decorated call returns: an async iterable stream that keeps its result."""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from .context import StreamContext
from .errors import InvalidJSONError
from .events import Usage
from .ledger import Ledger
from .progress.gauge import StreamProgress
from .records import AttemptRecord

if TYPE_CHECKING:
    from .dispatcher import CallOptions, Dispatcher
    from .progress.gauge import ProgressSnapshot

__all__ = ["DispatchStream"]

T = TypeVar("T", str, dict[str, Any])


class DispatchStream(Generic[T]):
    """An async iterable of chunks (``str``, or ``dict`` for ``llm_stream_with_metadata``).

    Iterate it once. Breaking out of the loop closes the provider's HTTP stream (the
    iterator is an async generator that nothing else references, so it is finalised at
    once); ``await stream.aclose()`` does the same explicitly. After iteration the result is
    available: :meth:`get_text`, :attr:`usage`, :attr:`cost_usd` ...; ``await
    stream.collect()`` runs the stream to the end and returns it.
    """

    def __init__(
        self,
        dispatcher: Dispatcher,
        ctx: StreamContext,
        options: CallOptions,
        mode: Literal["text", "metadata"],
    ) -> None:
        self._dispatcher = dispatcher
        self._ctx = ctx
        self._options = options
        self._mode = mode
        # A weak reference: the consumer's loop owns the generator, so a `break` drops the
        # last strong reference and the generator (and the provider stream) closes at once.
        self._iterator: weakref.ref[AsyncGenerator[Any, None]] | None = None

    def __aiter__(self) -> AsyncIterator[T]:
        if self._iterator is not None:
            raise RuntimeError("a DispatchStream can be iterated only once")
        iterator: AsyncGenerator[Any, None] = self._dispatcher.stream(
            self._ctx, self._options, as_dicts=self._mode == "metadata"
        )
        self._iterator = weakref.ref(iterator)
        return iterator

    async def aclose(self) -> None:
        """Stop the stream now (closes the provider connection)."""
        iterator = self._iterator() if self._iterator is not None else None
        if iterator is not None:
            await iterator.aclose()

    async def collect(self) -> DispatchStream[T]:
        """Run the stream to its end (if nobody iterated it) and return it for its result."""
        if self._iterator is None:
            async for _ in self:
                pass
        return self

    # -- result -------------------------------------------------------------------------------

    @property
    def context(self) -> StreamContext:
        return self._ctx

    @property
    def done(self) -> bool:
        """True once the stream completed successfully."""
        return bool(self._ctx.values.get("done"))

    def get_text(self) -> str:
        """Everything delivered so far (the whole answer once the stream is done)."""
        return self._ctx.text

    def get_json(self) -> Any:
        """The answer parsed as JSON; :class:`InvalidJSONError` carries the text if it is not."""
        text = self._ctx.raw_text
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(text, exc) from None

    @property
    def request_id(self) -> str:
        return self._ctx.request_id

    @property
    def usage(self) -> Usage | None:
        return self._ctx.usage

    @property
    def cost_usd(self) -> float | None:
        return self._ctx.cost_usd

    @property
    def duration_ms(self) -> float:
        return self._ctx.elapsed_ms

    @property
    def attempts(self) -> list[AttemptRecord]:
        return list(self._ctx.ledger.entries)

    @property
    def skipped(self) -> dict[str, str]:
        """Targets of the route left out for this request, by target key, with the reason
        (a model that takes no audio, a part over a size limit, a circuit open ...)."""
        return dict(self._ctx.skipped)

    @property
    def ledger(self) -> Ledger:
        """Every attempt with its tokens and cost; :attr:`usage` / :attr:`cost_usd` are its
        sums once the stream ended."""
        return self._ctx.ledger

    @property
    def progress(self) -> ProgressSnapshot | None:
        """This stream's progress figures now (None before it started)."""
        gauge = StreamProgress.of(self._ctx)
        return gauge.snapshot() if gauge is not None else None

    @property
    def provider(self) -> str:
        return self._ctx.provider

    @property
    def model(self) -> str:
        return self._ctx.model

    @property
    def finish_reason(self) -> str | None:
        return self._ctx.finish_reason

    def __repr__(self) -> str:
        state = "done" if self.done else ("started" if self._iterator else "new")
        return (
            f"DispatchStream(request_id={self._ctx.request_id!r}, provider={self._ctx.provider!r}, "
            f"model={self._ctx.model!r}, {state})"
        )
