"""What a decorated call returns: an async iterable stream that keeps its result."""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from .budgets.policy import BUDGET_SCOPE
from .chunk import chunk_dict
from .context import StreamContext
from .errors import InvalidJSONError
from .events import Usage
from .ledger import Ledger
from .progress.gauge import StreamProgress
from .records import AttemptRecord
from .request import Request
from .stages.json_check import JSON_PARSED, JSON_PARTIAL
from .stages.usage import ESTIMATED_BY
from .structured import PARSED, PARTIAL, PARTIAL_CHANGED
from .tools import ToolCall

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .dispatcher import CallOptions, Dispatcher
    from .progress.gauge import ProgressSnapshot
    from .routing.router import Plan

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
        *,
        structured: type[BaseModel] | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._ctx = ctx
        self._options = options
        self._mode = mode
        self._structured = structured
        # A weak reference: the consumer's loop owns the generator, so a `break` drops the
        # last strong reference and the generator (and the provider stream) closes at once.
        self._iterator: weakref.ref[AsyncGenerator[Any, None]] | None = None

    def __aiter__(self) -> AsyncIterator[T]:
        if self._iterator is not None:
            raise RuntimeError("a DispatchStream can be iterated only once")
        iterator: AsyncGenerator[Any, None] = self._dispatcher.stream(
            self._ctx, self._options, as_dicts=self._mode == "metadata"
        )
        if self._structured is not None and self._mode == "metadata":
            iterator = with_partials(self._ctx, iterator)
        self._iterator = weakref.ref(iterator)
        return iterator

    def follow_up(self, request: Request) -> DispatchStream[T]:
        """A new call of ``request`` made the way this one was (dispatcher, policies,
        stages, cache, budget scope, mode): the next turn of a conversation, e.g. in a
        tool loop."""
        ctx = self._dispatcher.new_context(request)
        if BUDGET_SCOPE in self._ctx.values:
            ctx.values[BUDGET_SCOPE] = self._ctx.values[BUDGET_SCOPE]
        return DispatchStream(
            self._dispatcher, ctx, self._options, self._mode, structured=self._structured
        )

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
        if JSON_PARSED in self._ctx.values:
            return self._ctx.values[JSON_PARSED]
        text = self._ctx.raw_text
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidJSONError(text, exc) from None

    @property
    def partial_json(self) -> Any:
        """With the JSON stream handler on (``StreamingOptions(enable_json_stream_handler=
        True)``): the JSON value as far as it streamed, None before any could be read."""
        return self._ctx.values.get(JSON_PARTIAL)

    @property
    def request_id(self) -> str:
        return self._ctx.request_id

    @property
    def usage(self) -> Usage | None:
        return self._ctx.usage

    @property
    def token_counter(self) -> str | None:
        """Who counted :attr:`usage`'s tokens: ``provider`` when every count is the
        provider's own, else the estimate used for the others (``tiktoken/o200k_base`` or
        ``characters``); None without usage."""
        usage = self._ctx.usage
        if usage is None:
            return None
        if not usage.estimated:
            return "provider"
        by: str | None = self._ctx.ledger.estimated_by or self._ctx.values.get(ESTIMATED_BY)
        return by

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
    def provider_kind(self) -> str | None:
        """The kind of the provider that answered (``anthropic`` ...; ``function`` for the
        decorated body; for a cache replay, the kind of the provider the stored answer came
        from; None for a provider the configuration does not hold)."""
        entry = self._dispatcher.config.providers.get(self._ctx.provider)
        return entry.kind if entry is not None else None

    @property
    def parsed(self) -> Any:
        """The answer as an instance of the call's ``response_model`` (once the stream
        completed; None before, or without a model)."""
        return self._ctx.values.get(PARSED)

    @property
    def partial(self) -> Any:
        """The structured answer as far as it streamed: an instance of the model with every
        field optional (None before anything could be read)."""
        return self._ctx.values.get(PARTIAL)

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool calls of the answer, parsed and checked (once the stream completed)."""
        return self._ctx.extras.tool_calls

    @property
    def reasoning(self) -> str:
        """The model's reasoning as it streamed, apart from the text (``""`` when none)."""
        return self._ctx.extras.reasoning

    @property
    def skipped(self) -> dict[str, str]:
        """Targets of the route left out for this request, by target key, with the reason
        (a model that takes no audio, a part over a size limit, a circuit open ...)."""
        return dict(self._ctx.skipped)

    def route_preview(self) -> Plan:
        """The targets routing would try for this stream if it started now, in order, with
        those it leaves out and why; nothing is claimed or sent. Circuits are not asked (a
        target whose circuit is open is still listed) and the cache is not looked up.
        Raises :class:`NoProviderAvailable` when no target can take the request."""
        return self._dispatcher.router.preview(
            self._ctx.request, providers=self._options.providers, model=self._options.model
        )

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


async def with_partials(
    ctx: StreamContext, items: AsyncGenerator[dict[str, Any], None]
) -> AsyncGenerator[dict[str, Any], None]:
    """``items`` with a ``kind="partial"`` dict after each text chunk that changed the
    structured answer as far as it streamed (see :mod:`llm_dispatch.structured`)."""
    try:
        async for item in items:
            yield item
            if item["kind"] == "text" and not item["is_final"] and ctx.values.get(PARTIAL_CHANGED):
                ctx.values[PARTIAL_CHANGED] = False
                ctx.chunk_index += 1
                partial = chunk_dict(ctx, "", ctx.chunk_index, final=False)
                partial["kind"] = "partial"
                partial["partial"] = ctx.values[PARTIAL].model_dump(exclude_unset=True)
                yield partial
    finally:
        await items.aclose()
