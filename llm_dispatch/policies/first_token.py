"""The core of opening an attempt: send the request, wait for the first event in time.

:func:`open_first_event` is one try. The provider's set-up (SDK import, client) happens
before the clocks start; then the request is sent and the first event (of any kind: text,
reasoning or a tool call) awaited under the ``first_token`` deadline (or the ``total`` one,
whichever is nearer). A try that fails is recorded on the attempt before its error goes on
to the policies around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from ..attempt import Attempt, Opened
from ..errors import ProviderError, ProviderTimeoutError
from ..events import ProviderEvent

__all__ = ["open_first_event"]


async def open_first_event(attempt: Attempt) -> Opened:
    """One try of ``attempt``: its stream and first event, or the :class:`ProviderError` that
    ended the try (a first-token timeout included); ``StreamTimeout`` when ``total`` fired."""
    attempt.next_try()
    try:
        opened = await _open(attempt)
    except ProviderError as exc:
        await attempt.try_failed(exc)
        raise
    except BaseException as exc:
        # Cancelled, or the total deadline, while waiting for the first event.
        attempt.abandon(exc)
        raise
    return opened


async def _open(attempt: Attempt) -> Opened:
    provider, deadlines = attempt.provider, attempt.run.deadlines
    first_token = attempt.timeouts.first_token
    await provider.prepare()
    loop = asyncio.get_running_loop()
    sent_at = loop.time()
    if attempt.on_send is not None:
        attempt.on_send()
    events = provider.stream(attempt.request, attempt.target.model)
    deadlines.watch()
    deadlines.arm("first_token", first_token)
    try:
        first = await _first(events)
    except asyncio.CancelledError as exc:
        timeout = deadlines.check(exc)
        await events.aclose()
        if timeout is None:
            raise
        if timeout.limit == "total":
            raise timeout from None
        error = ProviderTimeoutError(
            f"no first token within {first_token:g}s",
            provider=attempt.target.provider,
            model=attempt.target.model,
        )
        error.limit, error.seconds = "first_token", first_token
        raise error from None
    except BaseException:
        await events.aclose()
        raise
    finally:
        deadlines.disarm()
    await attempt.opened(loop.time() - sent_at)
    return Opened(events, first)


async def _first(events: AsyncGenerator[ProviderEvent, None]) -> ProviderEvent | None:
    """The first event that says something: a text, reasoning or tool-call delta, or a
    report of usage or finish (an empty event is skipped)."""
    while True:
        try:
            event = await events.__anext__()
        except StopAsyncIteration:
            return None
        if (
            event.text
            or event.reasoning
            or event.tool_call is not None
            or event.reasoning_signature is not None
            or event.finish_reason is not None
            or event.usage is not None
        ):
            return event
