"""The fault matrix: every provider (and OpenAI's Responses API) × every fault × both
mid-stream policies, each cell a real stream over HTTP with a fallback configured, checked
against the invariant of reliability.py (one complete answer, or an error whose partial text
is exactly what was received; callbacks end or error once; the ledger balances), with canary
API keys that must show in no log record or error."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from reliability import (
    DELIVERED,
    FALLBACK,
    FIRST_TOKEN,
    IDLE,
    PROVIDERS,
    RETRY_AFTER_CAP,
    WHOLE,
    WIRE,
    WORDS,
    K,
    check_invariant,
    policy_defaults,
    provider_entries,
    run_stream,
)

from llm_dispatch import StreamInterrupted
from llm_dispatch.errors import BadRequestError
from llm_dispatch.testing import FakeProviderServer, Script


@dataclass(frozen=True)
class Fault:
    """What the primary is scripted to do (``scripts(key)``: one script per request, the
    error texts quoting the canary ``key`` back as some APIs do), and what must follow.

    ``attempts`` / ``requests``: the ledger's records and the requests the server saw
    when the stream completes; ``mid_stream``: the fault strikes after text (``raise`` then
    ends with ``StreamInterrupted`` after :data:`DELIVERED`; ``continue`` completes with
    one more attempt); ``fails``: the error class when nothing may follow (no fallback).
    """

    scripts: Callable[[str], list[Script]]
    attempts: int
    requests: int
    mid_stream: bool = False
    fails: type[BaseException] | None = None
    refused: bool = False
    slowest: float = 0.0


def status(code: int, times: int, **fields: Any) -> Callable[[str], list[Script]]:
    def scripts(key: str) -> list[Script]:
        message = f"Incorrect API key provided: {key}"
        return [Script(status=code, error_message=message, **fields) for _ in range(times)]

    return scripts


def stream(**fields: Any) -> Callable[[str], list[Script]]:
    return lambda key: [Script(text=WHOLE, error_message=f"bad key {key}", **fields)]


def twice(**fields: Any) -> Callable[[str], list[Script]]:
    return lambda key: [Script(text=WHOLE, error_message=f"bad key {key}", **fields)] * 2


FAULTS: dict[str, Fault] = {
    # Retry-After honoured (capped), then the same target answers.
    "429 Retry-After": Fault(
        lambda key: [
            Script(status=429, retry_after=1, error_kind="rate_limit", error_message=key),
            Script(text=WHOLE),
        ],
        attempts=2,
        requests=2,
        slowest=RETRY_AFTER_CAP,
    ),
    # Retried with backoff, then the fallback answers.
    "429": Fault(status(429, 2, error_kind="rate_limit"), attempts=3, requests=3),
    "500": Fault(status(500, 2, error_kind="server"), attempts=3, requests=3),
    "503": Fault(status(503, 2), attempts=3, requests=3),
    "529": Fault(status(529, 2), attempts=3, requests=3),
    # Not retried; the fallback answers.
    "401": Fault(status(401, 1), attempts=2, requests=2),
    # About the request: no retry, no fallback.
    "400": Fault(status(400, 1, error_kind="bad_request"), 1, 1, fails=BadRequestError),
    "connection refused": Fault(lambda key: [], attempts=3, requests=1, refused=True),
    # The first-token deadline closes the request; the retry answers.
    "slow first token": Fault(
        lambda key: [Script(text=WHOLE, first_delay=FIRST_TOKEN * 4), Script(text=WHOLE)],
        attempts=2,
        requests=2,
        slowest=FIRST_TOKEN,
    ),
    "error event before text": Fault(
        twice(error_event_after=0, error_kind="server"), attempts=3, requests=3
    ),
    # After K chunks: raise, or the fallback continues.
    "drop after K": Fault(stream(drop_after=K), 2, 2, mid_stream=True),
    "stall": Fault(stream(chunk_delay=IDLE * 4), 2, 2, mid_stream=True, slowest=IDLE),
    "malformed event": Fault(stream(malformed_after=K), 2, 2, mid_stream=True),
    "error event after text": Fault(
        stream(error_event_after=K, error_kind="overloaded"), 2, 2, mid_stream=True
    ),
    "cut without closing event": Fault(stream(cut_after=K), 2, 2, mid_stream=True),
}


@pytest.mark.parametrize("policy", ["raise", "continue"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_fault_cell(
    provider: str,
    fault: str,
    policy: str,
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
    secret_canary: Any,
) -> None:
    spec = FAULTS[fault]
    fake_server.enqueue(*spec.scripts(secret_canary.keys[WIRE[provider]]), provider=WIRE[provider])
    fake_server.enqueue(
        Script(text=WHOLE, continuation="follow"), provider=WIRE[FALLBACK[provider]]
    )
    refused = provider if spec.refused else None
    dispatcher = make_dispatcher(
        providers=provider_entries(fake_server, secret_canary.keys, refused=refused),
        defaults=policy_defaults(policy),
    )

    started = time.monotonic()
    outcome = await run_stream(dispatcher, provider)
    elapsed = time.monotonic() - started

    if outcome.error is not None:
        secret_canary.check(outcome.error)
    interrupted = spec.mid_stream and policy == "raise"
    if spec.fails is not None:
        assert isinstance(outcome.error, spec.fails), repr(outcome.error)
        assert outcome.received == ""
        check_invariant(outcome, attempts=spec.attempts)
    elif interrupted:
        assert isinstance(outcome.error, StreamInterrupted), repr(outcome.error)
        assert outcome.received == DELIVERED[: len(outcome.received)]
        # Everything sent before the fault reached the consumer (a stall: the first chunk).
        assert outcome.received == (WORDS[0] if fault == "stall" else DELIVERED)
        check_invariant(outcome, attempts=1)
    else:
        assert outcome.error is None, repr(outcome.error)
        check_invariant(outcome, attempts=spec.attempts)
        wires = [r.provider for r in fake_server.requests]
        assert len(wires) == spec.requests, wires
        # Deadlines and Retry-After waits are at least what they time.
        assert elapsed >= spec.slowest
    # The server saw every request it answered end: none is left open.
    for request in fake_server.requests:
        await request.wait_done()
