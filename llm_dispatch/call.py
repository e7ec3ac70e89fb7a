"""One call, assembled: a request and the call's choices become the :class:`CallOptions` and
the :class:`DispatchStream` that runs them.

``@llm_stream`` / ``@llm_stream_with_metadata`` and :class:`Client` both build their calls
here, so the policy in force, the stage order, the embedding stage and the cache are
decided the same way for both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from .budgets.policy import BUDGET_SCOPE
from .cache.instance import is_streaming_cache
from .dispatcher import CallOptions
from .policies.overrides import merge_policy
from .result import DispatchStream
from .structured import StructuredOutputStage

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .cache.streaming_cache import StreamingCache
    from .dispatcher import Dispatcher
    from .providers.base import Provider
    from .request import Request
    from .settings.policies import TimeoutOverride
    from .stages.base import Stage
    from .stages.pipeline import CallStages

__all__ = ["CacheChoice", "checked_budget_scope", "open_call"]

#: A call's cache: its own :class:`StreamingCache`; ``True`` for the configuration's (which
#: must exist); ``False`` for none, counted as a bypass; ``None`` for the configuration's
#: when it has one.
CacheChoice: TypeAlias = "StreamingCache | bool | None"


def open_call(
    dispatcher: Dispatcher,
    request: Request,
    stages: CallStages,
    *,
    mode: Literal["text", "metadata"],
    providers: tuple[str, ...] | None = None,
    model: str | None = None,
    policy: dict[str, Any] | None = None,
    timeouts: TimeoutOverride | None = None,
    embedding: Stage | Literal[False] | None = None,
    body: Provider | None = None,
    cache: CacheChoice = None,
    cache_scope: str | Callable[[], str | None] | None = None,
    budget_scope: str | Callable[[], str | None] | None = None,
    caller: str | None = None,
    response_model: type[BaseModel] | None = None,
) -> DispatchStream[Any]:
    """The stream of one call on ``dispatcher``, not started yet.

    - ``stages``: the call's stages; the embedding stage is put in its place among them.
    - ``mode``: ``"text"`` yields ``str`` chunks, ``"metadata"`` chunk dicts.
    - ``providers`` / ``model``: narrow the route, replace the model.
    - ``policy``: overrides (:func:`~llm_dispatch.policies.overrides.policy_overrides`)
      laid over the configuration's default policy; empty or None: the defaults.
    - ``timeouts``: the call's own deadlines, over the policy's and every provider's
      configured ones (the client's ``StreamingOptions``).
    - ``embedding``: None for the configuration's embedding stage, ``False`` for none, or
      a stage of the call's own.
    - ``body``: the ``function`` provider of a decorated call.
    - ``cache``: see :data:`CacheChoice`; ``cache_scope``: a string, or a callable called
      now for one.
    - ``budget_scope``: the scope whose budgets the call counts against (docs/budgets.md):
      a string, or a callable called now for one (None: no scope).
    - ``caller``: names the call at the start of its error messages.
    - ``response_model``: the pydantic model the answer is (the request's
      ``response_format`` must already ask for it: :func:`~llm_dispatch.structured.
      response_format_for`); its stage checks the answer first, before every other stage.
    """
    signer: Stage | None
    if embedding is False:
        signer = None
    elif embedding is None:
        signer = dispatcher.embedding_stage
    else:
        signer = embedding
    options = CallOptions(
        providers=providers,
        model=model,
        policy=merge_policy(dispatcher.config.defaults, policy) if policy else None,
        timeouts=timeouts,
        # The embedding stage signs what the consumer sees, so it runs after every stage
        # that changes text (see stages/pipeline.py for the whole order).
        stages=(
            (StructuredOutputStage(response_model), *stages.for_call(signer))
            if response_model is not None
            else stages.for_call(signer)
        ),
        body=body,
        cache=_resolve_cache(dispatcher, cache, caller),
        cache_scope=cache_scope() if callable(cache_scope) else cache_scope,
    )
    ctx = dispatcher.new_context(request)
    scope = budget_scope() if callable(budget_scope) else budget_scope
    if scope is not None:
        ctx.values[BUDGET_SCOPE] = checked_budget_scope(scope, caller)
    return DispatchStream(dispatcher, ctx, options, mode, structured=response_model)


def checked_budget_scope(scope: object, caller: str | None = None) -> str:
    """``scope`` if it can name a budget scope (a non-empty string), else a TypeError or
    ValueError that says what was passed."""
    prefix = f"{caller}: " if caller is not None else ""
    if not isinstance(scope, str):
        raise TypeError(
            f"{prefix}budget_scope= takes a string (or a callable returning one), "
            f"not {type(scope).__name__}"
        )
    if not scope or scope == "*" or len(scope) > 200:
        raise ValueError(
            f"{prefix}budget_scope={scope[:40]!r}: a scope is 1 to 200 characters and not '*'"
        )
    return scope


def _resolve_cache(
    dispatcher: Dispatcher, cache: CacheChoice, caller: str | None
) -> StreamingCache | None:
    """The cache the call reads and fills (see :data:`CacheChoice`)."""
    if is_streaming_cache(cache):
        return cache
    if cache is False:
        if dispatcher.cache is not None:
            dispatcher.cache.record_bypass()
        return None
    if cache is True and dispatcher.cache is None:
        prefix = f"{caller}: " if caller is not None else ""
        raise ValueError(f"{prefix}cache=True but the configuration has no enabled 'cache' section")
    return dispatcher.cache
