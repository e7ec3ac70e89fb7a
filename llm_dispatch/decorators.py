"""``@llm_stream`` and ``@llm_stream_with_metadata``: turn an async generator function into a
dispatched provider stream."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from pydantic import BaseModel

from .binding import RequestBinder, tool_request_fields
from .cache.instance import is_streaming_cache
from .call import CacheChoice, checked_budget_scope, open_call
from .dispatcher import Dispatcher
from .embedding.options import EmbeddingOptions
from .global_dispatcher import get_dispatcher
from .policies.overrides import merge_policy, policy_overrides
from .providers.function import FunctionProvider
from .result import DispatchStream
from .settings.models import PolicySettings
from .stages.pipeline import CallStages
from .structured import structured_format
from .task_types import TaskType

if TYPE_CHECKING:
    from .embedding.stage import EmbeddingStage

__all__ = ["llm_stream", "llm_stream_with_metadata"]

#: A decorated body: an async generator function, or a coroutine function returning a str.
BodyFunc = Callable[..., AsyncIterator[Any] | Awaitable[Any]]


class _Decorated:
    """What a decorated function becomes: calling it returns a :class:`DispatchStream`."""

    def __init__(
        self, func: BodyFunc, mode: Literal["text", "metadata"], options: dict[str, Any]
    ) -> None:
        decorator = "llm_stream" if mode == "text" else "llm_stream_with_metadata"
        if not (inspect.isasyncgenfunction(func) or inspect.iscoroutinefunction(func)):
            raise TypeError(
                f"@{decorator} decorates `async def` functions (async generators that yield "
                f"chunks, or coroutines that return a string); "
                f"{getattr(func, '__qualname__', func)} is {func!r}"
            )
        functools.update_wrapper(self, func)
        self._func = func
        self._mode = mode
        self._options = options
        o = {**_DEFAULTS, **options}
        self.task_type = TaskType(o["task_type"])
        providers = o["providers"]
        if isinstance(providers, str):
            providers = [providers]
        self.providers = tuple(providers) if providers is not None else None
        self.model: str | None = o["model"]
        request_defaults = {name: o[name] for name in _REQUEST_FIELDS}
        where = f"@{decorator} {getattr(func, '__qualname__', func)}"
        # Converted and checked once, here: a bad tool fails at decoration time.
        request_defaults.update(
            tool_request_fields(
                tools=o["tools"], tool_choice=o["tool_choice"], reasoning=o["reasoning"],
                where=where,
            )
        )  # fmt: skip
        self.response_model: type[BaseModel] | None = o["response_model"]
        if self.response_model is not None:
            request_defaults["response_format"] = structured_format(
                self.response_model, o["response_format"], where
            )
        self._binder = RequestBinder(
            func,
            task_type=self.task_type,
            prompt_arg=o["prompt_arg"],
            prompt_template=o["prompt_template"],
            defaults=request_defaults,
        )
        self._overrides = policy_overrides(
            o["policy"],
            fallback_enabled=o["fallback_enabled"],
            max_retries=o["max_retries"],
            timeout=o["timeout"],
            mid_stream=o["mid_stream"],
        )
        # Built once: the progress and callback stages serve every call of this function.
        self._stages = CallStages(
            progress_tracker=o["progress_tracker"], callbacks=o["callbacks"], stages=o["stages"]
        )
        self._dispatcher: Dispatcher | None = o["dispatcher"]
        embed = o["embed_metadata"]
        # None: as the configuration says; False: never; anything else: this function's own.
        self._embed_off = embed is False
        embedding = EmbeddingOptions.from_value(embed) if embed is not None else None
        self.embedding: EmbeddingStage | None = None
        if embedding:
            from .embedding.stage import EmbeddingStage

            self.embedding = EmbeddingStage(embedding)
        cache = o["cache"]
        if cache is not None and not isinstance(cache, bool) and not is_streaming_cache(cache):
            raise TypeError(
                f"cache= takes a StreamingCache, True (the configuration's cache) or False, "
                f"not {type(cache).__name__}"
            )
        self._cache: CacheChoice = cache
        scope = o["cache_scope"]
        if scope is not None and not (isinstance(scope, str) or callable(scope)):
            raise TypeError("cache_scope= takes a string or a callable returning one")
        self._cache_scope: str | Callable[[], str | None] | None = scope
        budget_scope = o["budget_scope"]
        if budget_scope is not None and not callable(budget_scope):
            checked_budget_scope(budget_scope, where)
        self._budget_scope: str | Callable[[], str | None] | None = budget_scope

    def with_options(self, **overrides: Any) -> _Decorated:
        """The same function decorated with some arguments changed (e.g. ``providers=``)."""
        _check_arguments(self._mode, overrides)
        return _Decorated(self._func, self._mode, {**self._options, **overrides})

    def policy(self, dispatcher: Dispatcher) -> PolicySettings:
        """The policy in force: the configuration's defaults with this function's overrides."""
        return merge_policy(dispatcher.config.defaults, self._overrides)

    def __call__(self, *args: Any, **kwargs: Any) -> DispatchStream[Any]:
        request = self._binder.bind(args, kwargs)
        return open_call(
            self._dispatcher or get_dispatcher(),
            request,
            self._stages,
            mode=self._mode,
            providers=self.providers,
            model=self.model,
            policy=self._overrides,
            embedding=False if self._embed_off else self.embedding,
            body=FunctionProvider(self._func, args, kwargs),
            cache=self._cache,
            cache_scope=self._cache_scope,
            budget_scope=self._budget_scope,
            caller=self._func.__qualname__,
            response_model=self.response_model,
        )

    def __repr__(self) -> str:
        decorator = "llm_stream" if self._mode == "text" else "llm_stream_with_metadata"
        return f"<@{decorator} {self._func.__qualname__} task_type={self.task_type.value}>"


_REQUEST_FIELDS = ("system", "temperature", "max_tokens", "stop", "response_format", "options")

# Every argument the decorators take, with its default.
_DEFAULTS: dict[str, Any] = {
    "task_type": TaskType.TEXT_GENERATION,
    "providers": None,
    "model": None,
    "fallback_enabled": None,
    "max_retries": None,
    "timeout": None,
    "mid_stream": None,
    "policy": None,
    "prompt_arg": None,
    "prompt_template": None,
    "options": None,
    "system": None,
    "temperature": None,
    "max_tokens": None,
    "stop": None,
    "response_format": None,
    "response_model": None,
    "tools": None,
    "tool_choice": None,
    "reasoning": None,
    "stages": (),
    "dispatcher": None,
    "embed_metadata": None,
    "cache": None,
    "cache_scope": None,
    "budget_scope": None,
    "progress_tracker": None,
    "callbacks": None,
}


def _check_arguments(mode: str, options: dict[str, Any]) -> None:
    unknown = set(options) - set(_DEFAULTS)
    if unknown:
        decorator = "llm_stream" if mode == "text" else "llm_stream_with_metadata"
        raise TypeError(
            f"@{decorator}: unknown argument(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(_DEFAULTS)})"
        )


def _decorate(
    mode: Literal["text", "metadata"], func: BodyFunc | None, options: dict[str, Any]
) -> Any:
    _check_arguments(mode, options)
    if func is not None:
        return _Decorated(func, mode, options)
    return lambda f: _Decorated(f, mode, options)


@overload
def llm_stream(func: BodyFunc, /) -> _Decorated: ...
@overload
def llm_stream(**kwargs: Any) -> Callable[[BodyFunc], _Decorated]: ...
def llm_stream(func: BodyFunc | None = None, /, **kwargs: Any) -> Any:
    """Decorate an async generator function; calling it streams ``str`` chunks from a provider.

    ``task_type`` selects the route; ``providers`` / ``model`` narrow or override it;
    ``fallback_enabled``, ``max_retries``, ``timeout`` (total seconds), ``mid_stream`` and
    ``policy`` override the configured policies for this function; ``system``,
    ``temperature``, ``max_tokens``, ``stop``, ``response_format`` are request defaults
    (parameters of the same name on the function win); ``options`` are provider options
    (``top_p``, ``seed`` ...; an ``options`` parameter of the function adds to them);
    ``tools`` (functions, pydantic models or JSON-schema dicts), ``tool_choice`` and
    ``reasoning`` (an effort, a token budget) are request defaults too, and
    ``response_model`` (a pydantic model) asks for a structured answer (``stream.parsed``;
    see docs/tools.md);
    ``prompt_arg`` names the parameter holding the prompt when it is not one of the usual
    names, and ``prompt_template`` writes the function's other arguments into the prompt
    (see :mod:`llm_dispatch.binding` for every parameter's role); ``stages`` run after the
    dispatcher's own; ``embed_metadata`` (``True``, a dict or :class:`EmbeddingOptions`;
    ``False`` to turn off the configuration's) signs the stream with invisible provenance,
    with the key the options name (``hmac_key``, else ``$LLM_DISPATCH_HMAC_KEY``;
    ``hmac_key="random"`` for the process's random key) — none is a ``ConfigError`` here;
    ``cache`` (a :class:`StreamingCache`, ``True`` for the configuration's, ``False`` to
    bypass it) replays close-enough earlier answers, and ``cache_scope`` (a string, or a
    callable evaluated per call) keeps tenants apart; ``budget_scope`` (a string, or a
    callable evaluated per call) names the scope whose budgets the call counts against
    (docs/budgets.md). ``fn.with_options(cache=False)(...)``
    bypasses the cache for one call. ``progress_tracker`` (a :class:`ProgressTracker`)
    follows each call's progress; ``callbacks`` (``StreamingCallbacks``, ``EventCallbacks``,
    a ``StreamHandler`` or any LangChain-style handler, or a list of them) hear every event
    (see docs/streaming.md for their order).
    The body runs only when routing picks the ``function`` provider.
    """
    return _decorate("text", func, kwargs)


@overload
def llm_stream_with_metadata(func: BodyFunc, /) -> _Decorated: ...
@overload
def llm_stream_with_metadata(**kwargs: Any) -> Callable[[BodyFunc], _Decorated]: ...
def llm_stream_with_metadata(func: BodyFunc | None = None, /, **kwargs: Any) -> Any:
    """Like :func:`llm_stream`, but yields one dict per chunk (see :class:`ChunkMetadata`)."""
    return _decorate("metadata", func, kwargs)
