"""The client API: dispatched streams without a decorator.

    client = Client()                        # or Client("my.yaml") / Client(dispatcher=...)
    async for chunk in client.stream("Tell me a story", model="gpt-4o-mini"):
        print(chunk, end="")

    response = await client.stream_with_usage("Write a haiku", max_tokens=50,
                                              on_delta=lambda e: print(e.delta.get_text()))
    print(response.get_text(), response.usage, response.cost_usd)

    async for item in client.batch_stream(["one", "two", "three"], concurrency=2):
        ...

Every call goes through the same dispatcher loop, policies and stages as a decorated
function; the result of each call is a :class:`DispatchStream`. :class:`SteerLLMClient` is
the same client under the name the Steer LLM SDK's users know (docs/from/steer.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any

from pydantic import BaseModel

from .batch import BatchChunk, TaskRequest, stream_batch
from .binding import RequestBinder
from .call import CacheChoice, checked_budget_scope, open_call
from .callbacks.listener import Callback
from .callbacks.styles import EventCallbacks
from .client_options import StreamingOptions
from .dispatcher import Dispatcher
from .global_dispatcher import get_dispatcher
from .policies.overrides import policy_overrides
from .progress.tracker import ProgressTracker
from .result import DispatchStream
from .routing.model_owner import model_owner, unserved_model
from .settings.models import DispatchConfig, PolicySettings
from .stages.base import Stage
from .stages.pipeline import CallStages
from .structured import structured_format
from .task_types import TaskType

__all__ = ["Client", "SteerLLMClient"]


class Client:
    """Dispatched streaming calls without a decorator.

    ``config`` (a path, dict or :class:`DispatchConfig`) builds a dispatcher this client owns
    and closes; ``dispatcher=`` shares one; neither uses the process-wide default.
    ``callbacks``, ``progress_tracker`` and ``stages`` apply to every call of this client
    (calls can add their own).
    """

    def __init__(
        self,
        config: DispatchConfig | Mapping[str, Any] | str | None = None,
        *,
        dispatcher: Dispatcher | None = None,
        callbacks: object | Sequence[object] | None = None,
        progress_tracker: ProgressTracker | None = None,
        stages: Sequence[Stage] = (),
    ) -> None:
        if config is not None and dispatcher is not None:
            raise TypeError("Client: pass config= or dispatcher=, not both")
        self._owns_dispatcher = config is not None
        self.dispatcher = Dispatcher(config) if config is not None else dispatcher
        self._callbacks = _as_list(callbacks)
        self._progress_tracker = progress_tracker
        self._stages = tuple(stages)
        # Fail now, not on the first call, for a wrong callback or stage.
        CallStages(progress_tracker=progress_tracker, callbacks=self._callbacks, stages=stages)

    def _dispatcher(self) -> Dispatcher:
        return self.dispatcher if self.dispatcher is not None else get_dispatcher()

    # -- one call ----------------------------------------------------------------------------

    def open(
        self,
        prompt: str | None = None,
        *,
        messages: Sequence[Mapping[str, Any]] | None = None,
        history: Sequence[Mapping[str, Any]] | None = None,
        images: Any = None,
        audio: Any = None,
        documents: Any = None,
        options: dict[str, Any] | None = None,
        model: str | None = None,
        provider: str | None = None,
        providers: Sequence[str] | None = None,
        task_type: TaskType | str = TaskType.TEXT_GENERATION,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stop: str | Sequence[str] | None = None,
        response_format: dict[str, Any] | None = None,
        metadata: bool = False,
        callbacks: object | Sequence[object] | None = None,
        progress_tracker: ProgressTracker | None = None,
        stages: Sequence[Stage] = (),
        streaming_options: StreamingOptions | None = None,
        policy: PolicySettings | Mapping[str, Any] | None = None,
        fallback_enabled: bool | None = None,
        max_retries: int | None = None,
        timeout: float | None = None,
        mid_stream: str | None = None,
        cache: CacheChoice = None,
        cache_scope: str | None = None,
        budget_scope: str | None = None,
        tools: Any = None,
        tool_choice: str | None = None,
        reasoning: Any = None,
        response_model: type[BaseModel] | None = None,
    ) -> DispatchStream[Any]:
        """A stream for one request, not started yet: iterate it (``str`` chunks, or chunk
        dicts with ``metadata=True``) or ``await`` its ``collect()``.

        ``history`` (earlier turns), ``images``, ``audio`` and ``documents`` are bound as a
        decorated function's parameters of those names are (:mod:`llm_dispatch.binding`);
        ``options`` are provider options (``top_p``, ``seed`` ...). ``tools``,
        ``tool_choice``, ``reasoning`` and ``response_model`` are as for the decorators
        (docs/tools.md).
        ``model`` goes to the provider that names it (``models``, ``default_model``,
        ``prices`` or ``capabilities``), else, by its name, to the configured provider of
        its kind (``claude-...`` to Anthropic), the route's other providers staying as
        fallbacks; a model no configured provider serves raises
        :class:`NoProviderAvailable` before anything is sent. ``provider`` / ``providers``
        narrow the route as ``@llm_stream(providers=...)`` does (and then ``model`` goes to
        the first of them, whatever its name: an OpenAI-compatible server's own models).
        ``policy`` and the four policy shorthands override the configured policies for this
        call; ``streaming_options`` add theirs (:mod:`llm_dispatch.client_options`).
        ``budget_scope`` names the scope whose budgets the call counts against
        (docs/budgets.md).
        """
        dispatcher = self._dispatcher()
        streaming = streaming_options or StreamingOptions()
        task = TaskType(task_type)
        if budget_scope is not None:
            checked_budget_scope(budget_scope, "Client")
        if response_model is not None:
            response_format = structured_format(response_model, response_format, "Client")
        request = _BINDER.bind(
            (),
            {
                "prompt": prompt,
                "messages": messages,
                "history": history,
                "images": images,
                "audio": audio,
                "documents": documents,
                "system": system,
                "temperature": temperature,
                "max_tokens": max_tokens,
                "stop": stop,
                "response_format": streaming.response_format(response_format),
                "options": options,
                "tools": tools,
                "tool_choice": tool_choice,
                "reasoning": reasoning,
            },
            task_type=task,
        )
        targets = _route_providers(dispatcher.config, task, model, provider, providers)
        overrides = policy_overrides(
            dict(policy) if isinstance(policy, Mapping) else policy,
            fallback_enabled=fallback_enabled,
            max_retries=max_retries,
            timeout=timeout,
            mid_stream=mid_stream,
        )
        for section, values in streaming.policy().items():
            overrides[section] = {**overrides.get(section, {}), **values}
        call_stages = CallStages(
            progress_tracker=progress_tracker or self._progress_tracker,
            callbacks=[*self._callbacks, *_as_list(callbacks)],
            stages=(*self._stages, *stages, *streaming.transformers()),
            checks=streaming.checks(),
        )
        return open_call(
            dispatcher,
            request,
            call_stages,
            mode="metadata" if metadata else "text",
            providers=targets,
            model=model,
            policy=overrides,
            timeouts=streaming.timeouts(),
            cache=cache,
            cache_scope=cache_scope,
            budget_scope=budget_scope,
            response_model=response_model,
        )

    def stream(self, prompt: str | None = None, **kwargs: Any) -> DispatchStream[str]:
        """Stream ``str`` chunks (``async for chunk in client.stream(...)``); the returned
        stream also holds the result once iterated. Arguments as :meth:`open`."""
        if kwargs.get("metadata"):
            raise TypeError("stream() yields str chunks; use open(..., metadata=True) for dicts")
        return self.open(prompt, **kwargs)

    async def stream_with_usage(
        self,
        prompt: str | None = None,
        *,
        on_start: Callback | None = None,
        on_delta: Callback | None = None,
        on_usage: Callback | None = None,
        on_complete: Callback | None = None,
        on_error: Callback | None = None,
        **kwargs: Any,
    ) -> DispatchStream[str]:
        """Run one request to its end and return the result (``get_text()``, ``usage``,
        ``cost_usd``, ``get_json()`` ...). The ``on_*`` callbacks receive typed events
        (:class:`EventCallbacks`); other arguments as :meth:`open`. Raises what the stream
        raised."""
        extra = _as_list(kwargs.pop("callbacks", None))
        if any(fn is not None for fn in (on_start, on_delta, on_usage, on_complete, on_error)):
            extra.append(
                EventCallbacks(
                    on_start=on_start,
                    on_delta=on_delta,
                    on_usage=on_usage,
                    on_complete=on_complete,
                    on_error=on_error,
                )
            )
        stream = self.stream(prompt, callbacks=extra, **kwargs)
        await stream.collect()
        return stream

    # -- many calls --------------------------------------------------------------------------

    def batch_stream(
        self,
        requests: Iterable[TaskRequest | Mapping[str, Any] | str],
        *,
        concurrency: int = 4,
        **kwargs: Any,
    ) -> AsyncIterator[BatchChunk]:
        """Stream many requests, at most ``concurrency`` at a time, yielding their chunks as
        they arrive (interleaved; ``BatchChunk.index`` says whose). A failed request ends
        with an item carrying its ``error``; the others go on. Leaving the loop early stops
        every stream still running. ``kwargs`` apply to every request (as :meth:`open`).
        """
        return stream_batch(self.open, requests, concurrency=concurrency, kwargs=kwargs)

    async def batch(
        self,
        requests: Iterable[TaskRequest | Mapping[str, Any] | str],
        *,
        concurrency: int = 4,
        return_exceptions: bool = False,
        **kwargs: Any,
    ) -> list[DispatchStream[str] | BaseException]:
        """Run many requests to their ends, at most ``concurrency`` at a time; the results in
        request order. The first failure is raised (the rest stopped) unless
        ``return_exceptions``, which puts it in its place in the list."""
        items = list(requests)
        results: list[DispatchStream[str] | BaseException | None] = [None] * len(items)
        async for item in self.batch_stream(items, concurrency=concurrency, **kwargs):
            if not item.done:
                continue
            if item.error is not None:
                if not return_exceptions:
                    raise item.error
                results[item.index] = item.error
            else:
                assert item.result is not None
                results[item.index] = item.result
        return [r for r in results if r is not None]

    # -- lifecycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the dispatcher this client built (a shared one is left open)."""
        if self._owns_dispatcher and self.dispatcher is not None:
            await self.dispatcher.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _as_list(callbacks: object | Sequence[object] | None) -> list[object]:
    if callbacks is None:
        return []
    if isinstance(callbacks, (list, tuple)):
        return list(callbacks)
    return [callbacks]


def _client_arguments(
    prompt: str | None = None,
    messages: Sequence[Mapping[str, Any]] | None = None,
    history: Sequence[Mapping[str, Any]] | None = None,
    images: Any = None,
    audio: Any = None,
    documents: Any = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    stop: str | Sequence[str] | None = None,
    response_format: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    tools: Any = None,
    tool_choice: str | None = None,
    reasoning: Any = None,
) -> None:
    """The request arguments :meth:`Client.open` takes, bound like a decorated function's."""


_BINDER = RequestBinder(_client_arguments, task_type=TaskType.TEXT_GENERATION, name="Client")


def _route_providers(
    config: DispatchConfig,
    task_type: TaskType,
    model: str | None,
    provider: str | None,
    providers: Sequence[str] | None,
) -> tuple[str, ...] | None:
    """The ``providers=`` to plan with: the caller's, else the owner of ``model`` first
    and the route's other providers after it, else None (the route as configured)."""
    if provider is not None and providers is not None:
        raise TypeError("Client: pass provider= or providers=, not both")
    if provider is not None:
        return (provider,)
    if providers is not None:
        return tuple(providers)
    if model is None:
        return None
    found = config.route_for(task_type.value)
    route_order = list(dict.fromkeys(t.provider for t in found[1].targets)) if found else []
    order = route_order + [name for name in config.providers if name not in route_order]
    owner = model_owner(config, order, model)
    if owner is None:
        raise unserved_model(config, task_type.value, model)
    return (owner, *(name for name in route_order if name != owner))


#: :class:`Client` under the name Steer LLM SDK code uses: the same class.
SteerLLMClient = Client
