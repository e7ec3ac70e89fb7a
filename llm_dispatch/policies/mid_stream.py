"""What happens when a stream fails after text reached the consumer (``mid_stream``).

Retrying would repeat text the consumer already has, so a failure after text (or after a
reasoning or tool-call delta) never retries. With ``mid_stream: raise`` (the default) the
stream raises :class:`StreamInterrupted` with exactly the delivered text; so it does,
whatever the policy, once a tool-call delta was delivered, with the partial calls.

With ``mid_stream: continue`` the next target is asked to continue the partial answer: it
gets the request plus the provider text delivered so far (never an invisible payload a
stage added), each provider in the way its API follows
(:mod:`llm_dispatch.providers.continuation`), and its stream is cut where it repeats what
was delivered (:mod:`.continuation`). The decorated body cannot continue someone else's
answer, so it is skipped then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..attempt import Attempt
from ..errors import ProviderError, ProviderTimeoutError, StreamInterrupted, StreamTimeout
from ..events import ContinuationEvent, InterruptionEvent
from ..providers.base import Provider
from ..providers.function import FUNCTION_PROVIDER
from ..request import Request
from ..run import Run
from .continuation import GuardedContinuation

if TYPE_CHECKING:
    from ..routing.target import Target

__all__ = ["after_text", "guard_continuation", "report_continuation", "request_for"]


def request_for(run: Run, target: Target) -> Request | None:
    """What ``target`` is sent: the request, or its continuation once text was delivered;
    None when the target cannot continue the partial answer (recorded as skipped)."""
    ctx = run.ctx
    if not ctx.raw:
        return ctx.request
    request = ctx.request.with_assistant_prefix(ctx.raw_text)
    if (target.kind or target.provider) == FUNCTION_PROVIDER:
        ctx.ledger.charge(
            provider=target.provider,
            model=target.model,
            attempt=0,
            request=request,
            price=target.price,
            kind="skipped",
            message="the function body cannot continue a partial answer",
        )
        return None
    return request


def guard_continuation(attempt: Attempt) -> Provider:
    """The attempt's provider, cut where a continuation repeats the delivered text."""
    ctx = attempt.run.ctx
    if not ctx.raw:
        return attempt.provider
    return GuardedContinuation(attempt.provider, ctx.raw_text)


async def report_continuation(attempt: Attempt) -> None:
    """Tell the stages that a continuation opened, and how much of it repeated the text."""
    provider = attempt.provider
    if not isinstance(provider, GuardedContinuation):
        return
    repeated = provider.guard.dropped if provider.guard is not None else 0
    target = attempt.target
    event = ContinuationEvent(target.provider, target.model, attempt.run.ctx.chars, repeated)
    await attempt.emit(event)


async def after_text(attempt: Attempt, failure: BaseException) -> ProviderError:
    """Record a failure after text; raise unless the policy says continue (then return
    the error the next target takes over from)."""
    ctx, target = attempt.run.ctx, attempt.target
    kind = str(getattr(failure, "kind", None) or getattr(failure, "limit", "timeout"))
    if isinstance(failure, ProviderError):
        failure.attempt, failure.partial_text = attempt.number, ctx.text
    attempt.charge(
        kind=kind,
        status_code=getattr(failure, "status_code", None),
        message=str(failure),
        text=attempt.delivered,
    )
    await attempt.ended("interrupted")
    await attempt.emit(
        InterruptionEvent(target.provider, target.model, ctx.chars, kind, str(failure))
    )
    if isinstance(failure, StreamTimeout) and failure.limit == "total":
        raise failure
    # A tool call cannot be continued as text: the partial call is raised with the text.
    if attempt.run.policy.mid_stream != "continue" or ctx.extras.has_tool_calls:
        raise StreamInterrupted(
            ctx.text,
            provider=target.provider,
            model=target.model,
            cause=failure,
            attempts=ctx.ledger.entries,
            partial_tool_calls=ctx.extras.partial_tool_calls(),
        ) from failure
    if isinstance(failure, ProviderError):
        return failure
    return ProviderTimeoutError(str(failure), provider=target.provider, model=target.model)
