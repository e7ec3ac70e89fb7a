"""One dispatched stream under a fault, and the invariant every outcome must keep.

Shared by the fault matrix (test_fault_matrix.py) and the heavy soak (test_soak.py). Each
stream asks a primary provider, with one fallback configured; the fake server's scripted texts
are all one known answer (:data:`WHOLE`, continued with ``continuation="follow"``), so what
the consumer must see is computable:

- a completed stream delivered exactly :data:`WHOLE` (no repetition, no loss);
- a failed one raised an error whose ``partial_text`` is exactly what the consumer received
  (a prefix of :data:`WHOLE`);
- the callbacks (``StreamingCallbacks`` and ``EventCallbacks`` both) heard the text the
  consumer received and ended or errored exactly once;
- the ledger holds one record per attempt and its usage sums are the stream's usage.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

from conftest import TEST_MODELS

from llm_dispatch import EventCallbacks, StreamingCallbacks, llm_stream
from llm_dispatch.errors import ProviderError
from llm_dispatch.providers.base import FAST_PARSER_KINDS
from llm_dispatch.testing import FakeProviderServer, split_words

#: The answer every script sends (and every continuation completes).
WHOLE = " ".join(f"word{i}" for i in range(24)) + "."
WORDS = split_words(WHOLE)
#: Mid-stream faults strike after this many chunks.
K = 5
DELIVERED = "".join(WORDS[:K])

#: The routes: the three SDK kinds, and OpenAI through its Responses API.
ROUTES = ["openai", "anthropic", "google", "responses"]
#: The fake server's wire answering each route (which is also its provider kind).
ROUTE_WIRE = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "responses": "openai",
}
#: Each route's fallback, always on another wire.
ROUTE_FALLBACK = {
    "openai": "anthropic",
    "anthropic": "google",
    "google": "openai",
    "responses": "anthropic",
}
#: The providers: each route read by the SDK, and as ``<route>_fast`` read with ``parser:
#: fast`` where its kind has a fast parser (its fallback then read fast too, where it can).
PROVIDERS = ROUTES + [f"{r}_fast" for r in ROUTES if ROUTE_WIRE[r] in FAST_PARSER_KINDS]


def route_of(provider: str) -> str:
    return provider.removesuffix("_fast")


def parser_of(provider: str) -> str:
    return "fast" if provider.endswith("_fast") else "sdk"


def _fallback(provider: str) -> str:
    fallback = ROUTE_FALLBACK[route_of(provider)]
    fast = parser_of(provider) == "fast" and ROUTE_WIRE[fallback] in FAST_PARSER_KINDS
    return f"{fallback}_fast" if fast else fallback


#: The fake server's wire answering each provider.
WIRE = {name: ROUTE_WIRE[route_of(name)] for name in PROVIDERS}
#: Each provider's fallback.
FALLBACK = {name: _fallback(name) for name in PROVIDERS}
#: Deadlines small enough for a fast matrix, large enough for a busy 2-core machine.
FIRST_TOKEN = 0.5
IDLE = 0.5
#: The longest wait a Retry-After may ask for.
RETRY_AFTER_CAP = 0.2
#: Every stream's total deadline.
TOTAL = 30.0


def closed_port_url() -> str:
    """A 127.0.0.1 URL on a port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def provider_entries(
    server: FakeProviderServer, keys: dict[str, str], refused: str | None = None
) -> dict[str, Any]:
    """Every provider at ``server`` with the canary ``keys``; ``refused`` at a closed port."""
    entries: dict[str, Any] = {}
    for name, wire in WIRE.items():
        entries[name] = {
            "kind": wire,
            "api_key": keys[wire],
            "base_url": server.base_url_for(wire),
            "default_model": TEST_MODELS[wire],
        }
        if route_of(name) == "responses":
            entries[name]["api"] = "responses"
        if wire in FAST_PARSER_KINDS:
            entries[name]["parser"] = parser_of(name)
    if refused is not None:
        base = server.base_url_for(WIRE[refused])
        entries[refused]["base_url"] = base.replace(server.url, closed_port_url())
    return entries


def policy_defaults(
    mid_stream: str, *, first_token: float = FIRST_TOKEN, idle: float = IDLE
) -> dict[str, Any]:
    """One retry, the deadlines (any under the faults' delays, which are 4 × the defaults)."""
    return {
        "retry": {"max_retries": 1, "retry_after_cap": RETRY_AFTER_CAP},
        "timeouts": {"first_token": first_token, "idle": idle, "total": TOTAL},
        "mid_stream": mid_stream,
    }


@dataclass
class Heard:
    """What the two callback styles heard."""

    chunks: list[str] = field(default_factory=list)
    deltas: list[str] = field(default_factory=list)
    ends: int = 0
    completes: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    event_errors: list[Any] = field(default_factory=list)

    def callbacks(self) -> list[Any]:
        def chunk(text: str, metadata: dict[str, Any]) -> None:
            self.chunks.append(text)

        def end(metadata: dict[str, Any]) -> None:
            self.ends += 1

        def error(exc: BaseException, metadata: dict[str, Any]) -> None:
            self.errors.append(metadata)

        def complete(event: Any) -> None:
            self.completes += 1

        return [
            StreamingCallbacks(on_chunk_received=chunk, on_stream_end=end, on_error=error),
            EventCallbacks(
                on_delta=lambda e: self.deltas.append(e.delta.value),
                on_complete=complete,
                on_error=self.event_errors.append,
            ),
        ]


@dataclass
class Outcome:
    """One stream: what the consumer received, the stream, and the error that ended it."""

    received: str
    stream: Any
    error: BaseException | None
    heard: Heard


async def run_stream(
    dispatcher: Any, provider: str, *, model: str | None = None, timeout: float = TOTAL
) -> Outcome:
    """Stream one answer from ``provider`` (its fallback next; both asked for ``model`` when
    given, else their default) and record everything."""
    heard = Heard()
    targets = [provider, FALLBACK[provider]]

    @llm_stream(
        dispatcher=dispatcher,
        providers=[f"{t}/{model}" for t in targets] if model else targets,
        callbacks=heard.callbacks(),
        timeout=timeout,
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    stream = answer("Count the words")
    received: list[str] = []
    error: BaseException | None = None
    try:
        async with asyncio.timeout(timeout + 10):
            async for chunk in stream:
                received.append(chunk)
    except TimeoutError as exc:
        if not hasattr(exc, "partial_text"):
            raise  # the test's own timeout, not the library's StreamTimeout
        error = exc
    except Exception as exc:
        error = exc
    return Outcome("".join(received), stream, error, heard)


def usage_sum(entries: list[Any]) -> tuple[int, int, int]:
    return (
        sum(e.usage.prompt_tokens for e in entries),
        sum(e.usage.completion_tokens for e in entries),
        sum(e.usage.total_tokens for e in entries),
    )


def check_invariant(outcome: Outcome, attempts: int | None = None) -> None:
    """The invariant (module docstring); ``attempts``: how many attempts there must be."""
    heard, error = outcome.heard, outcome.error
    assert "".join(heard.chunks) == outcome.received
    assert "".join(heard.deltas) == outcome.received
    if error is None:
        assert outcome.received == WHOLE
        assert outcome.stream.get_text() == WHOLE
        assert (heard.ends, heard.completes, heard.errors, heard.event_errors) == (1, 1, [], [])
        entries = outcome.stream.ledger.entries
        usage = outcome.stream.usage
        assert usage is not None
        assert usage_sum(entries) == (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens,
        )
    else:
        assert WHOLE.startswith(outcome.received)
        assert getattr(error, "partial_text", None) == outcome.received
        assert (heard.ends, heard.completes) == (0, 0)
        assert len(heard.errors) == 1 and len(heard.event_errors) == 1
        assert heard.errors[0]["partial_text"] == outcome.received
        assert heard.event_errors[0].error is error
        entries = getattr(error, "attempts", None)
        if entries is None and isinstance(error, ProviderError):
            # A failure that allows no fallback on the call's only attempt is raised as it
            # is, without an ``attempts`` list (known gap): the stream's ledger has it.
            entries = outcome.stream.ledger.entries
            assert len(entries) == 1
        assert entries is not None, f"{type(error).__name__} lists no attempts"
        assert list(entries) == list(outcome.stream.ledger.entries)
    if attempts is not None:
        assert len(entries) == attempts, [(e.provider, e.outcome) for e in entries]
