"""The dispatcher: plan targets, open one under the policies, run the stages, deliver text.

One request goes through one loop (:meth:`Dispatcher.stream`):

1. ``Router.plan`` orders the targets for the task type (minus open circuits).
2. For each target, tenacity retries *opening* the stream and waiting for its first event;
   the watchdog enforces the first-token and total deadlines.
3. Text flows through the stages to the consumer; the watchdog enforces the idle deadline.
4. A failure before any text falls back to the next target. A failure after text is a
   mid-stream failure: raise :class:`StreamInterrupted` with the partial text, or with
   ``mid_stream: continue`` ask the next target to continue it.

The dispatcher knows nothing about what a stage does.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tenacity import RetryCallState

from .cache.entry import CacheHit
from .cache.providers import ReplayProvider, SharedProvider
from .cache.streaming_cache import StreamingCache
from .chunk import chunk_dict
from .context import StreamContext
from .dispatch_events import (
    CacheHitEvent,
    CircuitEvent,
    ContinuationEvent,
    FallbackEvent,
    InterruptionEvent,
    RetryEvent,
)
from .embedding.stage import EmbeddingStage
from .errors import (
    AllProvidersFailed,
    AttemptRecord,
    ErrorKind,
    ProviderError,
    ProviderTimeoutError,
    StreamInterrupted,
    StreamTimeout,
)
from .events import ProviderEvent, Usage
from .log import get_logger
from .offline import OFFLINE_HINT, fake_mode_requested, faked_settings
from .policies.circuit import CircuitBreaker, CircuitChange
from .policies.continuation import GuardedContinuation
from .policies.retry import build_retrying
from .policies.timeouts import Watchdog
from .providers import create_provider
from .providers.base import ModelPrice, Provider
from .providers.function import FUNCTION_PROVIDER
from .request import Request
from .routing.router import Plan, Router
from .routing.target import Target
from .settings.loader import load_config
from .settings.models import DispatchConfig, PolicySettings, TimeoutSettings
from .stages.base import Stage
from .stages.usage import UsageStage

__all__ = ["CallOptions", "Dispatcher"]

log = get_logger("llm_dispatch")

# What a cache hit, or a call that joined another's identical stream, costs.
_FREE = ModelPrice(input=0.0, output=0.0)

# Circuit changes caused by the record_* call in progress (see Dispatcher._record).
_circuit_changes: contextvars.ContextVar[list[CircuitChange] | None] = contextvars.ContextVar(
    "llm_dispatch_circuit_changes", default=None
)


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


class Dispatcher:
    """Routes requests to providers under retry, fallback, timeout and mid-stream policies.

    ``config`` is a path, a dict, a :class:`DispatchConfig`, or None (``LLM_DISPATCH_CONFIG``,
    then ``./config/dispatch.yaml``, then built-in defaults). ``stages`` run on every stream
    after the built-in usage stage. ``fake=True`` (default: the ``LLM_DISPATCH_FAKE``
    variable) serves every SDK provider from the built-in fake provider server (see
    :mod:`llm_dispatch.offline`).
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
        self.circuit = CircuitBreaker(self.config.defaults.circuit, on_change=self._circuit_changed)
        self.router = Router(
            self.config,
            circuit=self.circuit,
            is_enabled=self._enabled_reason,
            hint="" if self.fake else OFFLINE_HINT,
        )
        self.stages: tuple[Stage, ...] = (UsageStage(), *stages)
        embedding = self.config.embedding
        cache = self.config.cache
        #: The similar-prompt cache of the configuration's ``cache`` section, shared by every
        #: function that does not bring its own.
        self.cache: StreamingCache | None = (
            StreamingCache.from_options(cache) if cache is not None and cache.enabled else None
        )
        #: Signs every stream when the configuration's ``embedding`` section enables it.
        self.embedding_stage: EmbeddingStage | None = (
            EmbeddingStage(embedding) if embedding is not None and embedding.enabled else None
        )

    # -- providers ----------------------------------------------------------------------------

    def provider(self, name: str) -> Provider:
        """The provider configured as ``name`` (created on first use)."""
        provider = self._providers.get(name)
        if provider is None:
            settings = self.config.provider_settings(name)
            if self.fake:
                settings = faked_settings(settings)
            provider = create_provider(settings)
            self._providers[name] = provider
        return provider

    async def warm_up(self, providers: Sequence[str] | None = None) -> list[str]:
        """Import the SDKs and build the clients of ``providers`` (default: every enabled
        SDK provider of the configuration) now; returns the names prepared.

        A process's first call to a provider otherwise pays for this itself (about a second
        on a cold interpreter): outside its connect and first-token deadlines, but inside
        its ``total``. Raises the :class:`ProviderError` of a provider that cannot be set up.
        """
        from .providers import PROVIDER_KINDS

        names = list(providers) if providers is not None else list(self.config.providers)
        prepared: list[str] = []
        for name in names:
            entry = self.config.provider(name)
            if entry.kind not in PROVIDER_KINDS:
                continue
            if providers is None and self.router.disabled_reason(name) is not None:
                continue
            await self.provider(name).prepare()
            prepared.append(name)
        return prepared

    def _enabled_reason(self, name: str, settings: Any) -> str | None:
        """Why an SDK provider lacks credentials, or None (always None when faked)."""
        if self.fake:
            return None
        from .providers import disabled_reason

        return self.config.provider(name).missing_key_reason(name) or disabled_reason(settings)

    async def aclose(self) -> None:
        """Close every provider's HTTP client, and the configuration's cache."""
        providers, self._providers = list(self._providers.values()), {}
        for provider in providers:
            await provider.aclose()
        if self.cache is not None:
            await self.cache.aclose()

    # -- entry point --------------------------------------------------------------------------

    def new_context(self, request: Request) -> StreamContext:
        return StreamContext(request=request, request_id=uuid.uuid4().hex)

    def policy_for(self, options: CallOptions) -> PolicySettings:
        return options.policy or self.config.defaults

    async def stream(
        self, ctx: StreamContext, options: CallOptions, *, as_dicts: bool = False
    ) -> AsyncGenerator[Any, None]:
        """Stream ``ctx.request``: ``str`` chunks, or chunk dicts when ``as_dicts``.

        One generator from the plan to the last chunk, because every pass-through generator
        layer would cost a share of the per-chunk budget.
        """
        stages = (*self.stages, *options.stages)
        chunk_stages = [s for s in stages if s.handles_chunks()]
        policy = self.policy_for(options)
        # The total deadline starts now: the cache lookup and the circuit store count too.
        watchdog = Watchdog(policy.timeouts.total)
        hit = await self._cache_lookup(ctx, options, watchdog.left())
        if hit is not None:
            # The stored answer, replayed through the same loop and stages as a live one.
            ctx.cached = True
            replay: Provider | None = ReplayProvider(hit)
            plan = Plan([Target(hit.entry.provider, hit.entry.model, price=_FREE)], route="cache")
        else:
            replay = None
            plan = await self.router.plan(
                ctx.request,
                providers=options.providers,
                model=options.model,
                timeout=watchdog.left(),
            )
        first = plan.targets[0]
        ctx.provider, ctx.model, ctx.price = first.provider, first.model, first.price
        log.info(
            "stream.start",
            request_id=ctx.request_id,
            task_type=ctx.task_type,
            targets=[t.key for t in plan.targets],
            skipped=plan.skipped or None,
        )
        try:
            for stage in stages:
                await stage.on_start(ctx)
            if hit is not None:
                await self._emit(
                    ctx,
                    stages,
                    CacheHitEvent(hit.similarity, hit.exact, hit.entry.provider, hit.entry.model),
                )
        except BaseException as exc:
            # A stage's start failed or the consumer was cancelled meanwhile: the stages
            # that started still get their one on_error.
            for stage in stages:
                await stage.on_error(ctx, exc)
            raise

        attempts: list[AttemptRecord] = []
        ctx.values["attempts"] = attempts
        request = ctx.request
        last_error: ProviderError | None = None
        previous: Target | None = None
        tried: set[str] = set()
        completed = False
        try:
            for target in plan.targets:
                continuing = bool(ctx.raw)
                if continuing and self._is_function(target, options):
                    self._account(
                        ctx,
                        attempts,
                        target,
                        request,
                        attempt=0,
                        kind="skipped",
                        message="the function body cannot continue a partial answer",
                    )
                    continue
                if previous is not None:
                    log.info(
                        "stream.fallback",
                        request_id=ctx.request_id,
                        from_target=previous.key,
                        to_target=target.key,
                        reason=last_error.kind.value if last_error else "skipped",
                    )
                    await self._emit(
                        ctx,
                        stages,
                        FallbackEvent(
                            previous.provider,
                            previous.model,
                            target.provider,
                            target.model,
                            str(last_error) if last_error else "",
                        ),
                    )
                previous = target
                tried.add(target.key)
                try:
                    provider = replay or self._provider_for(target, options)
                    guarded: GuardedContinuation | None = None
                    if continuing:
                        # Drops the continuation's opening where it repeats delivered text.
                        provider = guarded = GuardedContinuation(provider, ctx.raw_text)
                    agen, event = await self._open(
                        ctx, target, provider, request, policy, watchdog, attempts, stages
                    )
                except ProviderError as exc:
                    last_error = exc
                    if not exc.allows_fallback or not policy.fallback:
                        break
                    continue

                ctx.provider, ctx.model, ctx.price = target.provider, target.model, target.price
                if guarded is not None:
                    guard = guarded.guard
                    repeated = guard.dropped if guard is not None else 0
                    if repeated:
                        log.info(
                            "stream.continuation_repeat_dropped",
                            request_id=ctx.request_id,
                            provider=target.provider,
                            chars=repeated,
                        )
                    await self._emit(
                        ctx,
                        stages,
                        ContinuationEvent(target.provider, target.model, ctx.chars, repeated),
                    )
                failure: BaseException | None = None
                chars_before = ctx.chars
                # This attempt's own usage report (the ledger charges each attempt).
                reported: Usage | None = None
                idle = self._timeouts(policy, target).idle
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
                        arm("idle", idle)
                        try:
                            event = await next_event()
                        except StopAsyncIteration:
                            event = None
                        finally:
                            disarm()
                except asyncio.CancelledError as exc:
                    timeout = watchdog.check(exc)
                    if timeout is None:
                        self._abandon(ctx, attempts, target, request, exc, chars_before)
                        raise
                    failure = timeout
                except ProviderError as exc:
                    failure = exc
                except BaseException as exc:
                    # The consumer left (GeneratorExit) or a stage raised: the attempt still
                    # used tokens, so the ledger keeps it.
                    self._abandon(ctx, attempts, target, request, exc, chars_before)
                    raise
                finally:
                    await agen.aclose()

                if failure is None:
                    self._account(
                        ctx,
                        attempts,
                        target,
                        request,
                        message="ok",
                        usage=reported,
                        text=ctx.raw_text[chars_before:],
                        # A call that joined another's identical stream spent nothing.
                        free=_joined(provider),
                    )
                    await self._record(ctx, stages, target.key, ok=True, watchdog=watchdog)
                    completed = True
                    break
                self._mark(failure, ctx, target)
                last_error = await self._mid_stream_failure(
                    ctx, target, request, failure, policy, attempts, stages, chars_before, watchdog
                )
                request = ctx.request.with_assistant_prefix(ctx.raw_text)
            if not completed:
                assert last_error is not None
                raise self._final_error(ctx, attempts, last_error)
            for stage in stages:
                # Accumulated on the context so that later stages (callbacks) see the text
                # earlier ones add at the end.
                ctx.trailer += await stage.on_end(ctx)
            trailer = ctx.trailer
        except BaseException as exc:
            if isinstance(exc, StreamTimeout):
                exc.partial_text = ctx.text
                exc.attempts = attempts
            for stage in stages:
                await stage.on_error(ctx, exc)
            log.info(
                "stream.error",
                request_id=ctx.request_id,
                error=type(exc).__name__,
                detail=str(exc) if not isinstance(exc, GeneratorExit) else "consumer closed",
                elapsed_ms=round(ctx.elapsed_ms, 1),
                chunks=ctx.chunk_index + 1,
            )
            raise
        finally:
            watchdog.close()
            if replay is None:
                # Planning claimed the probe of any half-open target; give back the ones
                # this stream never tried so their circuits can be probed by others now.
                untried = [t.key for t in plan.targets if t.key not in tried]
                await self.circuit.release_many(untried, timeout=watchdog.left())

        if trailer:
            ctx.delivered.append(trailer)
        ctx.values["done"] = True
        log.info(
            "stream.end",
            request_id=ctx.request_id,
            provider=ctx.provider,
            model=ctx.model,
            elapsed_ms=round(ctx.elapsed_ms, 1),
            ttft_ms=(
                round((ctx.first_chunk_at - ctx.started_at) * 1000, 1)
                if ctx.first_chunk_at
                else None
            ),
            chunks=ctx.chunk_index + 1,
            usage=ctx.usage.model_dump() if ctx.usage else None,
            finish_reason=ctx.finish_reason,
        )
        if as_dicts:
            yield chunk_dict(ctx, trailer, ctx.chunk_index + 1, final=True)
        elif trailer:
            yield trailer

    def _final_error(
        self, ctx: StreamContext, attempts: list[AttemptRecord], last: ProviderError
    ) -> BaseException:
        """What to raise when no target completed the stream."""
        if ctx.raw:
            error: BaseException = StreamInterrupted(
                ctx.text, provider=ctx.provider, model=ctx.model, cause=last, attempts=attempts
            )
        elif not last.allows_fallback and len(attempts) == 1:
            return last
        elif (limit := _deadline(last)) is not None:
            # The chain ran out on a deadline: say which one, with every attempt listed.
            seconds = getattr(last, "seconds", None)
            if seconds is None and last.provider in self.config.providers:
                seconds = self.config.timeouts_for(last.provider).connect
            error = StreamTimeout(limit, seconds or 0.0, provider=last.provider, model=last.model)
            error.attempts = attempts
        else:
            error = AllProvidersFailed(attempts, last)
        error.__cause__ = last
        return error

    async def _mid_stream_failure(
        self,
        ctx: StreamContext,
        target: Target,
        request: Request,
        failure: BaseException,
        policy: PolicySettings,
        attempts: list[AttemptRecord],
        stages: Sequence[Stage],
        chars_before: int,
        watchdog: Watchdog,
    ) -> ProviderError:
        """Record a failure after text; raise unless the policy says continue."""
        kind = getattr(failure, "kind", None) or getattr(failure, "limit", "timeout")
        status = getattr(failure, "status_code", None)
        self._account(
            ctx,
            attempts,
            target,
            request,
            kind=str(kind),
            status_code=status,
            message=str(failure),
            text=ctx.raw_text[chars_before:],
        )
        await self._record(ctx, stages, target.key, ok=False, watchdog=watchdog)
        await self._emit(
            ctx,
            stages,
            InterruptionEvent(target.provider, target.model, ctx.chars, str(kind), str(failure)),
        )
        log.warning(
            "stream.interrupted",
            request_id=ctx.request_id,
            provider=target.provider,
            model=target.model,
            chars_delivered=ctx.chars,
            kind=str(kind),
        )
        if isinstance(failure, StreamTimeout) and failure.limit == "total":
            raise failure
        if policy.mid_stream != "continue":
            raise StreamInterrupted(
                ctx.text,
                provider=target.provider,
                model=target.model,
                cause=failure,
                attempts=attempts,
            ) from failure
        if isinstance(failure, ProviderError):
            return failure
        return ProviderTimeoutError(str(failure), provider=target.provider, model=target.model)

    async def _open(
        self,
        ctx: StreamContext,
        target: Target,
        provider: Provider,
        request: Request,
        policy: PolicySettings,
        watchdog: Watchdog,
        attempts: list[AttemptRecord],
        stages: Sequence[Stage],
    ) -> tuple[AsyncGenerator[ProviderEvent, None], ProviderEvent | None]:
        """Open ``target`` (served by ``provider``) with retries; return the stream and its
        first text event.

        Raises the last :class:`ProviderError` when the target is exhausted, or
        :class:`StreamTimeout` when the total deadline passes.
        """
        first_token = self._timeouts(policy, target).first_token
        loop = asyncio.get_running_loop()

        async def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            assert isinstance(exc, ProviderError)
            wait = state.upcoming_sleep
            await self._emit(
                ctx,
                stages,
                RetryEvent(
                    target.provider,
                    target.model,
                    state.attempt_number,
                    exc.kind.value,
                    exc.status_code,
                    wait,
                    exc.message,
                ),
            )
            log.info(
                "stream.retry",
                request_id=ctx.request_id,
                provider=target.provider,
                model=target.model,
                attempt=state.attempt_number,
                kind=exc.kind.value,
                status_code=exc.status_code,
                wait_s=round(wait, 3),
            )

        async def sleep(seconds: float) -> None:
            remaining = watchdog.remaining()
            if seconds >= remaining:
                await asyncio.sleep(max(remaining, 0.0))
                raise StreamTimeout("total", policy.timeouts.total or 0.0)
            await asyncio.sleep(seconds)

        retrying = build_retrying(policy.retry, sleep=sleep, before_sleep=before_sleep)
        attempt_number = 0
        async for attempt in retrying:
            with attempt:
                attempt_number += 1
                ctx.attempt = attempt_number
                sent_at = loop.time()
                try:
                    opened = await self._first_event(
                        provider, request, target, watchdog, first_token
                    )
                except ProviderError as exc:
                    self._mark(exc, ctx, target, attempt_number)
                    self._account(
                        ctx,
                        attempts,
                        target,
                        request,
                        attempt=attempt_number,
                        kind=exc.kind.value,
                        status_code=exc.status_code,
                        message=exc.message,
                    )
                    if exc.allows_fallback:
                        await self._record(ctx, stages, target.key, ok=False, watchdog=watchdog)
                    raise
                except BaseException as exc:
                    # Cancelled, or the total deadline, while waiting for the first event.
                    self._abandon(ctx, attempts, target, request, exc, ctx.chars)
                    raise
                self.router.observe_ttft(target.key, loop.time() - sent_at)
                log.info(
                    "stream.first_chunk",
                    request_id=ctx.request_id,
                    provider=target.provider,
                    model=target.model,
                    attempt=attempt_number,
                    ttft_ms=round((loop.time() - sent_at) * 1000, 1),
                )
                return opened
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _first_event(
        self,
        provider: Provider,
        request: Request,
        target: Target,
        watchdog: Watchdog,
        first_token: float | None,
    ) -> tuple[AsyncGenerator[ProviderEvent, None], ProviderEvent | None]:
        # The SDK's import and client construction happen here, before the clocks start:
        # the first-token deadline times the provider, not our set-up.
        await provider.prepare()
        agen = provider.stream(request, target.model)
        watchdog.watch()
        watchdog.arm("first_token", first_token)
        try:
            while True:
                try:
                    event = await agen.__anext__()
                except StopAsyncIteration:
                    return agen, None
                if event.text:
                    return agen, event
                if event.finish_reason is not None or event.usage is not None:
                    # Non-text events before any text (usage, an empty completion):
                    # keep the first one and let the main loop read the rest.
                    return agen, event
        except asyncio.CancelledError as exc:
            timeout = watchdog.check(exc)
            await agen.aclose()
            if timeout is None:
                raise
            if timeout.limit == "total":
                raise timeout from None
            error = ProviderTimeoutError(
                f"no first token within {first_token:g}s",
                provider=target.provider,
                model=target.model,
            )
            error.limit, error.seconds = "first_token", first_token
            raise error from None
        except BaseException:
            await agen.aclose()
            raise
        finally:
            watchdog.disarm()

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _account(
        ctx: StreamContext,
        attempts: list[AttemptRecord],
        target: Target,
        request: Request,
        *,
        attempt: int | None = None,
        kind: str | None = None,
        status_code: int | None = None,
        message: str = "",
        usage: Usage | None = None,
        text: str = "",
        free: bool = False,
    ) -> None:
        """Record one attempt (``attempt`` defaults to the current one; ``text`` is what it
        delivered) and charge it to the request's ledger (``request`` as sent), at the
        target's price unless ``free``."""
        record = AttemptRecord(
            target.provider,
            target.model,
            ctx.attempt if attempt is None else attempt,
            kind,
            status_code,
            message,
            len(text),
        )
        attempts.append(record)
        price = _FREE if free else target.price
        ctx.ledger.add(record, request=request, price=price, usage=usage, text=text)

    @classmethod
    def _abandon(
        cls,
        ctx: StreamContext,
        attempts: list[AttemptRecord],
        target: Target,
        request: Request,
        exc: BaseException,
        chars_before: int,
    ) -> None:
        """Account for an attempt that ended because the stream as a whole stopped."""
        if isinstance(exc, StreamTimeout):
            kind, message = "timeout", str(exc)
        elif isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
            kind, message = "cancelled", "the consumer stopped the stream"
        else:
            kind, message = "aborted", f"{type(exc).__name__}: {exc}"
        cls._account(
            ctx,
            attempts,
            target,
            request,
            kind=kind,
            message=message,
            text=ctx.raw_text[chars_before:],
        )

    def _timeouts(self, policy: PolicySettings, target: Target) -> TimeoutSettings:
        """The policy's timeouts with the target provider's own overrides."""
        entry = self.config.providers.get(target.provider)
        return policy.timeouts.merged(entry.timeouts if entry is not None else None)

    def _provider_for(self, target: Target, options: CallOptions) -> Provider:
        if self._is_function(target, options):
            if options.body is None:
                raise ProviderError(
                    "the route names the function provider but this call has no decorated body",
                    provider=FUNCTION_PROVIDER,
                    kind=ErrorKind.BAD_REQUEST,
                )
            return options.body
        provider = self.provider(target.provider)
        if options.cache is not None:
            return SharedProvider(
                provider, options.cache, route=_cache_route(options), scope=options.cache_scope
            )
        return provider

    async def _cache_lookup(
        self, ctx: StreamContext, options: CallOptions, timeout: float | None
    ) -> CacheHit | None:
        cache = options.cache
        if cache is None:
            return None
        route = _cache_route(options)
        hit = await cache.lookup(
            ctx.request, route=route, scope=options.cache_scope, timeout=timeout
        )
        if hit is not None:
            log.info("cache.hit", request_id=ctx.request_id, **hit.info())
        return hit

    def _is_function(self, target: Target, options: CallOptions) -> bool:
        settings = target.settings
        kind = settings.kind if settings is not None else target.provider
        return kind == FUNCTION_PROVIDER

    @staticmethod
    def _mark(
        exc: BaseException, ctx: StreamContext, target: Target, attempt: int | None = None
    ) -> None:
        if isinstance(exc, ProviderError):
            exc.attempt = attempt if attempt is not None else ctx.attempt
            exc.partial_text = ctx.text

    async def _emit(self, ctx: StreamContext, stages: Sequence[Stage], event: Any) -> None:
        for stage in stages:
            await stage.on_event(ctx, event)

    async def _record(
        self,
        ctx: StreamContext,
        stages: Sequence[Stage],
        key: str,
        *,
        ok: bool,
        watchdog: Watchdog,
    ) -> None:
        """Tell the circuit breaker how an attempt went; report any state change to stages."""
        changes: list[CircuitChange] = []
        token = _circuit_changes.set(changes)
        try:
            if ok:
                await self.circuit.record_success(key, timeout=watchdog.left())
            else:
                await self.circuit.record_failure(key, timeout=watchdog.left())
        finally:
            _circuit_changes.reset(token)
        for change in changes:
            await self._emit(
                ctx, stages, CircuitEvent(change.key, change.old, change.new, change.reason)
            )

    def _circuit_changed(self, change: CircuitChange) -> None:
        changes = _circuit_changes.get()
        if changes is not None:
            changes.append(change)


def _joined(provider: Provider) -> bool:
    """Whether ``provider`` (or the one it wraps) joined another call's identical stream."""
    inner = provider.inner if isinstance(provider, GuardedContinuation) else provider
    return bool(getattr(inner, "joined", False))


def _cache_route(options: CallOptions) -> str:
    """What would answer a call, for the cache partition: the route narrowed by the call's
    ``providers`` / ``model`` (the task type is part of the request itself)."""
    return f"providers={','.join(options.providers or ())};model={options.model or ''}"


def _deadline(error: ProviderError) -> str | None:
    """``first_token`` or ``connect`` when ``error`` is that deadline firing, else None."""
    return error.limit if isinstance(error, ProviderTimeoutError) else None
