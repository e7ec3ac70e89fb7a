"""The dispatcher: plan targets, open one under the policies, run the stages, deliver text.

One request goes through one generator (:meth:`Dispatcher.stream`):

1. the call's cache policy is asked for a stored answer; otherwise ``Router.plan`` orders
   the targets of the task type (minus disabled providers and open circuits);
2. the fallback policy hands out the targets in turn; each becomes an ``Attempt``, opened
   under the policies of :mod:`~llm_dispatch.policies.opening` (and :mod:`.policies.hedging`);
3. text flows through the stages to the consumer, under the idle deadline; reasoning and
   tool calls go to ``ctx.extras`` (:mod:`llm_dispatch.deltas`), which says what to show;
4. a failure after text goes to the mid-stream policy: raise, or continue on the next target;
5. once the tool calls are checked and every stage ended, the cache policy keeps the answer.

The dispatcher knows nothing about what a stage or a policy does, and logs nothing itself.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import stream_hooks
from .attempt import Attempt, Open, Opened
from .budgets import Budgets
from .chunk import chunk_dict, extra_dict
from .context import StreamContext
from .errors import ErrorKind, ProviderError
from .events import PlanEvent, Usage
from .offline import OFFLINE_HINT, fake_mode_requested, faked_settings
from .policies.circuit import CircuitBreaker
from .policies.fallback import Fallback
from .policies.hedging import Opening
from .policies.limits import Limiter
from .policies.mid_stream import after_text, guard_continuation, report_continuation
from .policies.opening import attempt_opener
from .policies.timeouts import Watchdog
from .provider_options import planned_options
from .providers.base import Provider
from .providers.function import FUNCTION_PROVIDER
from .providers.registry import PROVIDER_KINDS, create_provider
from .request import Request
from .routing.router import Plan, Router
from .routing.target import Target
from .run import Run
from .settings.loader import load_config
from .settings.models import DispatchConfig, PolicySettings
from .settings.policies import TimeoutOverride
from .stages.base import Stage
from .stages.log import LogStage
from .stages.usage import UsageStage

if TYPE_CHECKING:
    # Imported when a cache or the embedding is used: a plain stream needs neither.
    from .cache.policy import CachePolicy, StoredAnswer
    from .cache.streaming_cache import StreamingCache
    from .embedding.stage import EmbeddingStage

__all__ = ["CallOptions", "Dispatcher"]


@dataclass(frozen=True)
class CallOptions:
    """Per-call choices: target overrides, the policy in force, and extra stages."""

    providers: tuple[str, ...] | None = None
    model: str | None = None
    policy: PolicySettings | None = None
    stages: tuple[Stage, ...] = ()
    # The decorated body, when routing may pick the ``function`` provider.
    body: Provider | None = None
    # The similar-prompt cache this call reads and fills, and its tenant/scope key.
    cache: StreamingCache | None = None
    cache_scope: str | None = None
    # The call's own deadlines: over the policy's and the provider's configured ones.
    timeouts: TimeoutOverride | None = None


_CachePolicy: type[CachePolicy] | None = None


def _cache_policy() -> type[CachePolicy]:
    """:class:`CachePolicy`, imported on first use (a plain stream never needs the cache's
    modules) and then kept: an import statement costs microseconds on every call."""
    global _CachePolicy
    if _CachePolicy is None:
        from .cache.policy import CachePolicy

        _CachePolicy = CachePolicy
    return _CachePolicy


class Dispatcher:
    """Routes requests to providers under retry, fallback, timeout and mid-stream policies.

    ``config`` is a path, a dict, a :class:`DispatchConfig`, or None (``LLM_DISPATCH_CONFIG``,
    then ``./config/dispatch.yaml``, then built-in defaults). ``stages`` run on every stream
    after the built-in usage and log stages. ``fake=True`` (default: the
    ``LLM_DISPATCH_FAKE`` variable) serves every SDK provider from the built-in fake
    provider server (see :mod:`llm_dispatch.offline`).
    """

    def __init__(
        self,
        config: DispatchConfig | Mapping[str, Any] | str | os.PathLike[str] | None = None,
        *,
        stages: Sequence[Stage] = (),
        fake: bool | None = None,
    ) -> None:
        self.config = load_config(config)
        #: True when every SDK provider is served by the built-in fake provider server.
        self.fake = fake_mode_requested() if fake is None else fake
        self._providers: dict[str, Provider] = {}
        # Providers whose calls asked for another connect deadline than configured: the
        # deadline is the SDK client's, so each such deadline gets its own client.
        self._variants: dict[tuple[str, float], Provider] = {}
        self.circuit = CircuitBreaker(self.config.defaults.circuit)
        self.limits = Limiter(self.config)
        self.router = Router(
            self.config,
            circuit=self.circuit,
            is_enabled=self._enabled_reason,
            hint="" if self.fake else OFFLINE_HINT,
        )
        self.stages: tuple[Stage, ...] = (UsageStage(), LogStage(), *stages)
        embedding, cache = self.config.embedding, self.config.cache
        #: The similar-prompt cache of the configuration's ``cache`` section, shared by every
        #: function that does not bring its own.
        self.cache: StreamingCache | None = None
        if cache is not None and cache.enabled:
            from .cache.streaming_cache import StreamingCache

            self.cache = StreamingCache.from_options(cache)
        #: Signs every stream when the configuration's ``embedding`` section enables it.
        self.embedding_stage: EmbeddingStage | None = None
        if embedding is not None and embedding.enabled:
            from .embedding.stage import EmbeddingStage

            self.embedding_stage = EmbeddingStage(embedding)
        # Opening an attempt: under every policy that guards it (policies/opening.py).
        self.budgets = Budgets(self.config)
        self._open: Open = attempt_opener(self.circuit, self.limits, self.budgets)

    # -- providers ----------------------------------------------------------------------------

    def provider(self, name: str, *, connect_timeout: float | None = None) -> Provider:
        """The provider configured as ``name`` (created on first use); with
        ``connect_timeout`` other than its configured one, a client of its own for it."""
        provider = self._providers.get(name)
        if provider is None:
            settings = self.config.provider_settings(name)
            if self.fake:
                settings = faked_settings(settings)
            provider = create_provider(settings)
            self._providers[name] = provider
        if connect_timeout is None or connect_timeout == provider.settings.connect_timeout:
            return provider
        key = (name, connect_timeout)
        variant = self._variants.get(key)
        if variant is None:
            settings = provider.settings.model_copy(update={"connect_timeout": connect_timeout})
            variant = self._variants[key] = create_provider(settings)
        return variant

    async def warm_up(self, providers: Sequence[str] | None = None) -> list[str]:
        """Import the SDKs and build the clients of ``providers`` (default: every enabled
        SDK provider of the configuration) now; returns the names prepared.

        A process's first call to a provider otherwise pays for this itself (about a second
        on a cold interpreter): outside its connect and first-token deadlines, but inside
        its ``total``. Raises the :class:`ProviderError` of a provider that cannot be set up.
        """
        names = list(providers) if providers is not None else list(self.config.providers)
        prepared: list[str] = []
        for name in names:
            if self.config.provider(name).kind not in PROVIDER_KINDS:
                continue
            if providers is None and self.router.disabled_reason(name) is not None:
                continue
            await self.provider(name).prepare()
            prepared.append(name)
        return prepared

    def _enabled_reason(self, name: str, settings: Any) -> str | None:
        """Why a provider cannot be used (no credentials), or None (always None when faked)."""
        return None if self.fake else self.config.provider(name).disabled_reason(name)

    async def aclose(self) -> None:
        """Close every provider's HTTP client, the cache, the limits' and budgets' stores."""
        providers = [*self._providers.values(), *self._variants.values()]
        self._providers, self._variants = {}, {}
        for provider in providers:
            await provider.aclose()
        if self.cache is not None:
            await self.cache.aclose()
        await self.limits.aclose()
        await self.budgets.aclose()

    # -- entry point --------------------------------------------------------------------------

    def new_context(self, request: Request) -> StreamContext:
        return StreamContext(request=request, request_id=uuid.uuid4().hex)

    def policy_for(self, options: CallOptions) -> PolicySettings:
        return options.policy or self.config.defaults

    async def stream(
        self, ctx: StreamContext, options: CallOptions, *, as_dicts: bool = False
    ) -> AsyncGenerator[Any, None]:
        """Stream ``ctx.request``: ``str`` chunks, or chunk dicts when ``as_dicts``; one
        generator from the plan to the last chunk (each generator layer costs per chunk)."""
        policy = self.policy_for(options)
        hooks = stream_hooks.installed()  # the process's hooks, as they are when it starts
        stages = (*self.stages, *options.stages, *hooks.stages)
        # The total deadline starts now: the cache lookup and the circuit store count too.
        run = Run(ctx, stages, policy, Watchdog(policy.timeouts.total), self.router.observe_ttft)
        cache: CachePolicy | None = None
        if options.cache is not None:
            cache = _cache_policy().for_call(
                options.cache, ctx.request, options.providers, options.model, options.cache_scope
            )
        stored = await cache.stored_answer(run.left()) if cache is not None else None
        plan = await self._plan(run, options, stored)
        target_options = planned_options(plan.targets, ctx.request, self.config.provider_kinds())
        first = plan.targets[0]
        ctx.provider, ctx.model, ctx.price = first.provider, first.model, first.price
        ctx.skipped = dict(plan.skipped)
        await run.begin(
            PlanEvent(plan.route, tuple(t.key for t in plan.targets), dict(plan.skipped)),
            stored.event if stored is not None else None,
        )

        def attempt_for(target: Target, request: Request) -> Attempt:
            sent = target_options[target.key]
            if sent != request.options:  # an equal request needs no (pydantic) copy
                request = request.model_copy(update={"options": sent})
            timeouts = self.config.timeouts_for(target.provider, policy.timeouts)
            timeouts = timeouts.merged(options.timeouts)
            serving = (
                stored.provider
                if stored is not None
                else self._serve(target, options, timeouts.connect)
            )
            attempt = Attempt(
                run, target, serving, request, timeouts, ctx.chars, watchers=hooks.observers
            )
            if cache is not None and stored is None and serving is not options.body:
                attempt.provider = cache.wrap(serving, attempt.charge_nothing)
            attempt.provider = guard_continuation(attempt)
            return attempt

        chain = Fallback(run, plan)
        opening = Opening(run, chain, attempt_for, self._open_attempt)
        watchdog, chunk_stages = run.deadlines, run.chunk_stages
        try:
            while (step := await chain.next()) is not None:
                try:
                    attempt, opened = await opening.open(*step)
                except ProviderError as exc:
                    chain.failed(exc)
                    continue
                target, agen, event = attempt.target, opened.events, opened.first
                ctx.extras.begin_attempt()
                failure: BaseException | None = None
                chars_before = attempt.chars_before
                # This attempt's own usage report (the ledger charges each attempt).
                reported: Usage | None = None
                idle = attempt.timeouts.idle
                # The per-chunk path: every statement here runs once per chunk, so lookups
                # are hoisted into locals and nothing runs that is not needed per chunk.
                next_event = agen.__anext__
                arm, disarm = watchdog.arm, watchdog.disarm
                raw_append, delivered_append = ctx.raw.append, ctx.delivered.append
                try:
                    while event is not None:
                        text = event.text
                        if text:
                            if ctx.chars == chars_before:
                                ctx.contributors.append(target.provider)
                                if ctx.first_chunk_at is None:
                                    ctx.first_chunk_at = time.perf_counter()
                            ctx.chars += len(text)
                            raw_append(text)
                            if chunk_stages:
                                for stage in chunk_stages:
                                    text = await stage.on_chunk(ctx, text)
                            if text:
                                ctx.chunk_index += 1
                                delivered_append(text)
                                if as_dicts:
                                    yield chunk_dict(ctx, text, ctx.chunk_index, final=False)
                                else:
                                    yield text
                        else:
                            if event.usage is not None:
                                ctx.usage = reported = event.usage
                            if event.finish_reason is not None:
                                ctx.finish_reason = event.finish_reason
                            if (extra := ctx.extras.take(event)) is not None:
                                await run.emit(extra)
                                if as_dicts:
                                    ctx.chunk_index += 1
                                    yield extra_dict(ctx, extra, ctx.chunk_index)
                        arm("idle", idle)
                        try:
                            event = await next_event()
                        except StopAsyncIteration:
                            event = None
                        finally:
                            disarm()
                except asyncio.CancelledError as exc:
                    failure = watchdog.check(exc)
                    if failure is None:
                        await attempt.abandoned(exc)
                        raise
                except ProviderError as exc:
                    failure = exc
                except BaseException as exc:
                    # The consumer left (GeneratorExit) or a stage raised: the attempt still
                    # used tokens, so the ledger keeps it.
                    await attempt.abandoned(exc)
                    raise
                finally:
                    await agen.aclose()

                if failure is None:
                    attempt.charge(message="ok", usage=reported, text=attempt.delivered)
                    await attempt.ended("ok")
                    chain.complete()
                    break
                chain.interrupted(await after_text(attempt, failure))
            if not chain.completed:
                raise chain.error()
            for done in ctx.extras.finish_tool_calls(ctx.request.tools):
                await run.emit(done)
                if as_dicts:
                    ctx.chunk_index += 1
                    yield extra_dict(ctx, done, ctx.chunk_index)
            trailer = await run.end()
            if cache is not None:
                cache.completed()
        except BaseException as exc:
            await run.fail(exc)
            raise
        finally:
            watchdog.close()
            ctx.ended_at = time.perf_counter()

        if trailer:
            ctx.delivered.append(trailer)
        ctx.values["done"] = True
        if as_dicts:
            yield chunk_dict(ctx, trailer, ctx.chunk_index + 1, final=True)
        elif trailer:
            yield trailer

    # -- steps --------------------------------------------------------------------------------

    async def _plan(self, run: Run, options: CallOptions, stored: StoredAnswer | None) -> Plan:
        """The stored answer as the only target, or the router's plan."""
        if stored is not None:
            # The stored answer, replayed through the same loop and stages as a live one.
            run.ctx.cached = True
            return Plan([stored.target], route="cache")
        return await self.router.plan(
            run.ctx.request, providers=options.providers, model=options.model, timeout=run.left()
        )

    async def _open_attempt(self, attempt: Attempt) -> Opened:
        """Open ``attempt`` under the policies; report its target as the one streaming."""
        try:
            opened = await self._open(attempt)
        except ProviderError:
            await attempt.ended("not_opened")
            raise
        except BaseException:
            await attempt.ended("abandoned")
            raise
        ctx, target = attempt.run.ctx, attempt.target
        ctx.provider, ctx.model, ctx.price = target.provider, target.model, target.price
        await report_continuation(attempt)
        return opened

    def _serve(self, target: Target, options: CallOptions, connect: float) -> Provider:
        """The provider of ``target``: the decorated body, or the configured provider
        (with a client that connects within ``connect`` seconds)."""
        if (target.kind or target.provider) != FUNCTION_PROVIDER:
            return self.provider(target.provider, connect_timeout=connect)
        if options.body is None:
            raise ProviderError(
                "the route names the function provider but this call has no decorated body",
                provider=FUNCTION_PROVIDER,
                kind=ErrorKind.BAD_REQUEST,
            )
        return options.body
