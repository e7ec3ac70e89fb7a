"""The fault matrix: every provider (and OpenAI's Responses API) × every fault × both
mid-stream policies, each cell a real stream over HTTP with a fallback configured, checked
against the invariant of reliability.py (one complete answer, or an error whose partial text
is exactly what was received; callbacks end or error once; the ledger balances), with canary
API keys that must show in no log record or error."""

from __future__ import annotations

import time
from typing import Any

import pytest
from faults import FAULTS
from reading_paths import functions_run, openai_reading_paths
from reliability import (
    DELIVERED,
    FALLBACK,
    PROVIDERS,
    WHOLE,
    WIRE,
    WORDS,
    check_invariant,
    parser_of,
    policy_defaults,
    provider_entries,
    route_of,
    run_stream,
)

from llm_dispatch import StreamInterrupted
from llm_dispatch.providers.base import FAST_PARSER_KINDS
from llm_dispatch.testing import FakeProviderServer, Script


@pytest.mark.parametrize("policy", ["raise", "continue"])
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize(
    "provider",
    # The SDK-parser cells run among the heavy tests (.ci/run runs them), the default
    # parser's in every run.
    [
        pytest.param(p, marks=pytest.mark.heavy)
        if parser_of(p) == "sdk" and WIRE[p] in FAST_PARSER_KINDS
        else p
        for p in PROVIDERS
    ],
)
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


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if WIRE[p] == "openai"])
async def test_each_openai_provider_is_read_by_its_parser(
    provider: str,
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
    secret_canary: Any,
) -> None:
    fake_server.enqueue(Script(text=WHOLE), provider="openai")
    dispatcher = make_dispatcher(
        providers=provider_entries(fake_server, secret_canary.keys),
        defaults=policy_defaults("raise"),
    )

    with functions_run() as seen:
        outcome = await run_stream(dispatcher, provider)

    assert outcome.error is None, repr(outcome.error)
    assert outcome.received == WHOLE
    assert openai_reading_paths(seen) == {parser_of(provider)}
    api = "/v1/responses" if route_of(provider) == "responses" else "/v1/chat/completions"
    assert [r.path for r in fake_server.requests] == [api]
