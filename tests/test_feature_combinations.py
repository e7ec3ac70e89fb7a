"""The features together: hedging, limits, budgets, observability and the cloud kinds on
one dispatcher, over real HTTP against the fake provider server.

Each feature has its own tests; these check where they meet: a hedge's two racers under
limits (slots, counts, refusals) and budgets (one reservation each, each settled with its
own charge), what the observability sees of a race and of a refusal, a 429 under all of
them, a cloud kind under limits and budgets, and a consumer that leaves mid-race.

The slow side of a race waits seconds longer than anything else in its test, so the
outcomes hold on a busy machine; the only times asserted are lower bounds (a retry sent no
sooner than its Retry-After allowed).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from cloud_fixtures import MODELS, provider_entry
from conftest import FAST_RETRY, TEST_MODELS, fake_providers
from observability_capture import Telemetry, telemetry  # noqa: F401  (the fixture)
from opentelemetry.trace import StatusCode
from redis.asyncio import Redis

from llm_dispatch import BudgetExceeded, Dispatcher, LimitReached, Stage, llm_stream, stream_hooks
from llm_dispatch.budgets import Counter, MemoryBudgetStore, Refusal
from llm_dispatch.errors import AllProvidersFailed
from llm_dispatch.events import FirstTokenEvent, RetryEvent
from llm_dispatch.policies.circuit_store import CircuitState
from llm_dispatch.policies.limit_redis import RedisLimitStore
from llm_dispatch.policies.limit_store import MemoryLimitStore, Scope
from llm_dispatch.policies.limit_store import Refusal as LimitRefusal
from llm_dispatch.stream_hooks import StreamHooks
from llm_dispatch.testing import FakeProviderServer, RecordedRequest, Script

try:
    from cache_fixtures import REDIS_URL
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import REDIS_URL

pytestmark = pytest.mark.timeout(60)

SLOW = 5.0  # a first event that never comes within a test
HEDGE = {"hedge_after": 0.2}
#: A first event that comes after the hedge went out: the server's delay starts when the
#: request arrived, the hedge's timer when it was sent, on the same event loop.
LATE = 0.3
#: USD per million tokens: 0.001 USD a token.
PRICE = {"input": 1000.0, "output": 1000.0}
OPENAI = f"openai/{TEST_MODELS['openai']}"
ANTHROPIC = f"anthropic/{TEST_MODELS['anthropic']}"


@pytest.fixture
async def shared() -> AsyncIterator[dict[str, Any]]:
    """``defaults`` that keep the limits and the budgets in the real Redis server, under a
    namespace of the test's own (removed afterwards)."""
    namespace = f"test-combined-{uuid.uuid4().hex[:12]}"
    yield {
        "limits": {"store": REDIS_URL, "namespace": f"{namespace}:limits"},
        "budgets": {"store": REDIS_URL, "namespace": f"{namespace}:budgets"},
    }
    client = Redis.from_url(REDIS_URL)
    # The limits' keys start with their namespace, the budgets' with it as a hash tag.
    keys = [key async for key in client.scan_iter(match=f"*{namespace}:*")]
    if keys:
        await client.unlink(*keys)
    await client.aclose()


#: Where the limits and the budgets keep their counts: this process, or Redis (the
#: ``redis`` mark: skipped without a server, failed without one in CI).
STORES = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=STORES)
def stores(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The test runs with the counts in this process's stores, then in Redis."""
    if request.param == "memory":
        return {}
    shared_defaults: dict[str, Any] = request.getfixturevalue("shared")
    return shared_defaults


@pytest.fixture
async def make(
    fake_server: FakeProviderServer, clean_provider_env: None
) -> AsyncIterator[Callable[..., Any]]:
    """``await make(limits={provider: limits}, budgets=[...], defaults={...})``: a
    dispatcher over the three priced fake providers, warmed up (an SDK's first import
    would otherwise fall inside a race), closed after the test."""
    made: list[Dispatcher] = []

    async def build(
        *,
        limits: dict[str, dict[str, Any]] | None = None,
        budgets: list[dict[str, Any]] | None = None,
        defaults: dict[str, Any] | None = None,
        providers: dict[str, Any] | None = None,
        routes: dict[str, Any] | None = None,
    ) -> Dispatcher:
        entries = fake_providers(fake_server, **(providers or {}))
        for name, entry in entries.items():
            entry.setdefault("prices", {entry["default_model"]: dict(PRICE)})
            if name in (limits or {}):
                entry["limits"] = (limits or {})[name]
        defaults = dict(defaults or {})
        defaults["retry"] = {**FAST_RETRY, **defaults.get("retry", {})}
        config: dict[str, Any] = {"providers": entries, "defaults": defaults}
        if budgets:
            config["budgets"] = budgets
        if routes:
            config["routes"] = routes
        dispatcher = Dispatcher(config)
        made.append(dispatcher)
        await dispatcher.warm_up([n for n in entries if n in TEST_MODELS])
        return dispatcher

    yield build
    for dispatcher in made:
        await dispatcher.aclose()


def streamer(dispatcher: Dispatcher, providers: list[str] | None = None, **options: Any) -> Any:
    options.setdefault("timeout", 20)
    options.setdefault("max_tokens", 10)

    @llm_stream(dispatcher=dispatcher, providers=providers, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


async def collected(stream: Any) -> str:
    async with asyncio.timeout(20):
        return "".join([chunk async for chunk in stream])


async def closed(recorded: RecordedRequest) -> bool:
    """Whether the server saw the client go away before the answer was complete."""
    await recorded.wait_done(timeout=10)
    return recorded.disconnected and not recorded.completed


async def until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (it is asked every 10 ms, for up to 10 s)."""
    async with asyncio.timeout(10):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)


def outcomes(stream: Any) -> list[tuple[str, str]]:
    return [(a.provider, a.outcome) for a in stream.attempts]


def in_use(dispatcher: Dispatcher, key: str) -> int:
    """Concurrency slots scope ``key`` holds now (in this process's store)."""
    store = dispatcher.limits.store
    assert isinstance(store, MemoryLimitStore)
    return store.in_use(key)


async def slots(dispatcher: Dispatcher, key: str) -> int:
    """Concurrency slots scope ``key`` holds now, in this process's store or in Redis."""
    if isinstance(dispatcher.limits.store, MemoryLimitStore):
        return in_use(dispatcher, key)
    namespace = dispatcher.limits.settings.namespace
    client = Redis.from_url(REDIS_URL)
    try:
        return int(await client.zcard(f"{namespace}:{{{key.split('/')[0]}}}:{key}:slots"))
    finally:
        await client.aclose()


def race(server: FakeProviderServer, slow: str = "openai", fast: str = "anthropic") -> None:
    """Script a race: ``slow`` never answers in time, ``fast`` answers at once."""
    server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider=slow)
    server.enqueue(Script(chunks=["fast ", "answer"], usage=(20, 2)), provider=fast)


async def spent_by_budget(dispatcher: Dispatcher) -> dict[str, tuple[float, float]]:
    """(spent, reserved) USD of each budget's day window."""
    return {
        s.budget: (round(s.spent_usd, 9), round(s.reserved_usd, 9))
        for s in await dispatcher.budgets.status()
        if s.period == "day"
    }


# -- hedging and limits ---------------------------------------------------------------------

#: A route of two openai models: both racers are under openai's own limits.
TWO_MODELS = {"default": ["openai/gpt-4o-mini", "openai/gpt-4o"]}


class CountingLimits:
    """A limit store's admissions and releases, by ticket (mixed into a real store)."""

    admitted: list[str]
    released: list[str]

    async def acquire(
        self, scopes: Sequence[Scope], ticket: str, tokens: int, window: float, lease: float
    ) -> LimitRefusal | None:
        refusal: LimitRefusal | None = await super().acquire(  # type: ignore[misc]
            scopes, ticket, tokens, window, lease
        )
        if refusal is None:
            self.admitted.append(ticket)
        return refusal

    async def release(self, scopes: Sequence[Scope], ticket: str) -> None:
        self.released.append(ticket)
        await super().release(scopes, ticket)  # type: ignore[misc]


class CountingMemoryLimits(CountingLimits, MemoryLimitStore):
    pass


class CountingRedisLimits(CountingLimits, RedisLimitStore):
    pass


def count_limits(dispatcher: Dispatcher) -> CountingLimits:
    """Put a counting store of the same kind in place of ``dispatcher``'s limit store."""
    limits = dispatcher.limits
    store: CountingLimits
    if isinstance(limits.store, MemoryLimitStore):
        store = CountingMemoryLimits()
    else:
        store = CountingRedisLimits(REDIS_URL, limits.settings.namespace)
    store.admitted, store.released = [], []
    limits.store = store  # type: ignore[assignment]
    return store


class SlotsAtFirstToken(Stage):
    """The slots each scope holds when the race's winner reports its first event."""

    def __init__(self, dispatcher: Dispatcher, *keys: str) -> None:
        self.dispatcher, self.keys = dispatcher, keys
        self.seen: list[dict[str, int]] = []

    async def on_event(self, ctx: Any, event: Any) -> None:
        if isinstance(event, FirstTokenEvent):
            self.seen.append({key: await slots(self.dispatcher, key) for key in self.keys})


async def test_both_racers_hold_a_slot_and_the_loser_gives_it_back_once_at_once(
    make: Any, fake_server: FakeProviderServer, stores: dict[str, Any]
) -> None:
    dispatcher = await make(
        limits={
            "openai": {
                "max_concurrent": 2,
                "on_limit": "fallback",
                "models": {"gpt-4o-mini": {"max_concurrent": 1}},
            }
        },
        routes=TWO_MODELS,
        defaults=stores,
    )
    counted = count_limits(dispatcher)
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), model="gpt-4o-mini")
    fake_server.enqueue(Script(chunks=["fast ", "answer"]), model="gpt-4o")
    seen = SlotsAtFirstToken(dispatcher, "openai", OPENAI)
    stream = streamer(dispatcher, policy=HEDGE, stages=(seen,))("hi")
    assert await collected(stream) == "fast answer"
    # While racing, each racer held a slot: two of openai's, the slow model's one.
    assert seen.seen == [{"openai": 2, OPENAI: 1}]
    assert outcomes(stream) == [("openai", "hedged"), ("openai", "ok")]
    [slow, _] = fake_server.requests
    assert slow.model == "gpt-4o-mini" and await closed(slow)
    assert (await slots(dispatcher, "openai"), await slots(dispatcher, OPENAI)) == (0, 0)
    # Each racer's slot was given back exactly once.
    assert len(counted.admitted) == 2 and sorted(counted.released) == sorted(counted.admitted)

    # Given back at once, not after a lease: a call that may not wait is admitted now.
    fake_server.enqueue(Script(chunks=["next"]), model="gpt-4o-mini")
    follow = streamer(dispatcher)("again")
    assert await collected(follow) == "next"
    assert outcomes(follow) == [("openai", "ok")]


async def test_requests_per_minute_counts_both_racers(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = await make(
        limits={"openai": {"requests_per_minute": 2, "on_limit": "fallback"}},
        routes={"default": [*TWO_MODELS["default"], ANTHROPIC]},
    )
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), model="gpt-4o-mini")
    fake_server.enqueue(Script(chunks=["fast"]), model="gpt-4o")
    stream = streamer(dispatcher, policy=HEDGE)("hi")
    assert await collected(stream) == "fast"
    assert len(fake_server.requests) == 2

    # Both requests count: a third within the window is refused, and falls back.
    after = streamer(dispatcher)("again")
    assert await collected(after)
    assert [(a.provider, a.outcome) for a in after.attempts] == [
        ("openai", "limit_reached"),
        ("openai", "limit_reached"),
        ("anthropic", "ok"),
    ]
    assert "requests_per_minute of openai" in after.attempts[0].message


async def tokens_counted(dispatcher: Dispatcher, key: str) -> float:
    """The tokens scope ``key`` counts in its window now, in this process's store or in
    Redis (the ``sum`` of its tokens hash)."""
    store = dispatcher.limits.store
    if isinstance(store, MemoryLimitStore):
        return store._counts[key].tokens
    namespace = dispatcher.limits.settings.namespace
    client = Redis.from_url(REDIS_URL)
    try:
        total = await client.hget(f"{namespace}:{{{key.split('/')[0]}}}:{key}:tokens", "sum")
    finally:
        await client.aclose()
    return float(total or 0)


async def test_tokens_per_minute_counts_what_each_racer_was_charged(
    make: Any, fake_server: FakeProviderServer, stores: dict[str, Any]
) -> None:
    dispatcher = await make(
        limits={"openai": {"tokens_per_minute": 100_000}},
        routes=TWO_MODELS,
        defaults=stores,
    )
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), model="gpt-4o-mini")
    fake_server.enqueue(Script(chunks=["fast"], usage=(20, 2)), model="gpt-4o")
    # Each racer is admitted with its prompt and max_tokens estimated.
    stream = streamer(dispatcher, policy=HEDGE, max_tokens=1000)("hi")
    assert await collected(stream) == "fast"
    lost, won = stream.attempts
    assert (lost.outcome, won.outcome) == ("hedged", "ok")
    assert lost.usage.completion_tokens == 0 and won.usage.total_tokens == 22
    # Once each ended, it counts what the ledger charged it: the loser its prompt only.
    charged = lost.usage.total_tokens + won.usage.total_tokens
    assert await tokens_counted(dispatcher, "openai") == charged


async def test_a_hedge_refused_by_a_limit_leaves_the_first_racer_racing(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = await make(
        limits={"anthropic": {"max_concurrent": 1, "on_limit": "fallback"}},
    )
    # The hedge's target is full: another call holds its only slot.
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["busy"]), provider="anthropic")
    busy = streamer(dispatcher, ["anthropic"])("occupy")
    holder = asyncio.create_task(collected(busy))
    await until(lambda: in_use(dispatcher, "anthropic") == 1)
    fake_server.enqueue(Script(first_delay=LATE, chunks=["first ", "target"]), provider="openai")
    stream = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE)("hi")
    try:
        assert await collected(stream) == "first target"
    finally:
        holder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder
    assert outcomes(stream) == [("anthropic", "limit_reached"), ("openai", "ok")]
    assert [r.provider for r in fake_server.requests] == ["anthropic", "openai"]
    assert in_use(dispatcher, "anthropic") == 0


# -- hedging and budgets --------------------------------------------------------------------

PER_TARGET_BUDGETS = [
    {"provider": "openai", "per_day": 5.0},
    {"provider": "anthropic", "per_day": 5.0},
    {"route": "default", "per_day": 5.0},
]


async def test_each_racer_is_settled_with_its_own_charge(
    make: Any, fake_server: FakeProviderServer, stores: dict[str, Any]
) -> None:
    dispatcher = await make(budgets=PER_TARGET_BUDGETS, defaults=stores)
    race(fake_server)
    stream = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE)("hi")
    assert await collected(stream) == "fast answer"
    [lost, won] = stream.attempts
    assert (lost.outcome, won.outcome) == ("hedged", "ok")
    assert lost.cost_usd and won.cost_usd == pytest.approx((20 + 2) / 1000)
    spent = await spent_by_budget(dispatcher)
    assert spent == {
        "provider openai": (round(lost.cost_usd, 9), 0.0),
        "provider anthropic": (round(won.cost_usd, 9), 0.0),
        "route default": (round(lost.cost_usd + won.cost_usd, 9), 0.0),
    }


@pytest.mark.parametrize(
    ("budget", "name"),
    [
        # The hedge's provider has no room for its estimate.
        ({"provider": "anthropic", "per_day": 0.000001}, "provider anthropic"),
        # The route has room for one estimate (0.011 USD), held by the first racer.
        ({"route": "default", "per_day": 0.02}, "route default"),
    ],
)
async def test_a_hedge_refused_by_a_budget_leaves_the_first_racer_racing(
    make: Any, fake_server: FakeProviderServer, budget: dict[str, Any], name: str
) -> None:
    dispatcher = await make(budgets=[budget])
    fake_server.enqueue(
        Script(first_delay=LATE, chunks=["first ", "target"], usage=(5, 2)), provider="openai"
    )
    stream = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE)("hi")
    assert await collected(stream) == "first target"
    assert outcomes(stream) == [("anthropic", "budget_exceeded"), ("openai", "ok")]
    assert [r.provider for r in fake_server.requests] == ["openai"]
    refused, served = stream.attempts
    assert refused.message.startswith(f"budget '{name}' per day")
    spent = served.cost_usd if "route" in budget else 0.0
    assert await spent_by_budget(dispatcher) == {name: (spent, 0.0)}


# -- hedging and observability --------------------------------------------------------------


async def test_a_hedged_call_is_one_stream_span_with_two_tries(
    telemetry: Telemetry,  # noqa: F811
    make: Any,
    fake_server: FakeProviderServer,
) -> None:
    dispatcher = await make()
    race(fake_server)
    stream = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE)("hi")
    assert await collected(stream) == "fast answer"

    span, tries = telemetry.stream()
    assert [t.attributes["llm_dispatch.provider"] for t in tries] == ["openai", "anthropic"]
    lost, won = tries
    assert lost.attributes["error.type"] == "hedged"
    assert lost.status.status_code is not StatusCode.ERROR  # losing a race is no failure
    assert "error.type" not in won.attributes
    assert span.attributes["llm_dispatch.outcome"] == "ok"
    assert span.attributes["llm_dispatch.attempts"] == 2
    assert span.attributes["llm_dispatch.retries"] == 0
    assert span.attributes["llm_dispatch.fallbacks"] == 0
    assert span.status.status_code is StatusCode.UNSET
    assert telemetry.open_spans() == []

    target = {"provider": "anthropic", "model": TEST_MODELS["anthropic"]}
    assert (
        telemetry.sample("llm_dispatch_requests_total", **target, outcome="ok", error_type="") == 1
    )
    assert telemetry.sample("llm_dispatch_attempts_total", **target, outcome="ok") == 1
    slow = {"provider": "openai", "model": TEST_MODELS["openai"]}
    assert telemetry.sample("llm_dispatch_attempts_total", **slow, outcome="hedged") == 1
    exposition = telemetry.exposition()
    for counter in ("retries", "fallbacks", "interruptions"):
        assert f"llm_dispatch_{counter}_total{{" not in exposition
    [(attributes, duration)] = telemetry.points("gen_ai.client.operation.duration")
    assert duration.count == 1 and "error.type" not in attributes


class Heard(Stage):
    """The events a stage hears."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def on_event(self, ctx: Any, event: Any) -> None:
        self.events.append(event)


async def test_the_process_hooks_hear_each_racer_event_once(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = await make(defaults={"retry": {"max_retries": 1}})
    heard, own = Heard(), Heard()
    previous = stream_hooks.install(StreamHooks(stages=(heard,)))
    try:
        fake_server.enqueue(Script(status=503), provider="openai")
        fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
        fake_server.enqueue(Script(chunks=["fast"]), provider="anthropic")
        stream = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE, stages=(own,))
        assert await collected(stream("hi")) == "fast"
    finally:
        stream_hooks.install(previous)
    kinds = [type(e).__name__ for e in heard.events]
    assert kinds == [type(e).__name__ for e in own.events]
    assert kinds.count("RetryEvent") == kinds.count("FirstTokenEvent") == 1


# -- a 429 under limits, budgets, retry and the circuit --------------------------------------


class CountingStore(MemoryBudgetStore):
    """The in-memory budget store, counting reservations and the settlements of each."""

    def __init__(self) -> None:
        super().__init__()
        self.reservations = 0
        self.settled: dict[str, int] = {}

    async def reserve(
        self,
        counters: Sequence[Counter],
        token: str,
        amount: int,
        now: float,
        hold_until: float,
    ) -> Refusal | None:
        self.reservations += 1
        return await super().reserve(counters, token, amount, now, hold_until)

    async def settle(self, counters: Sequence[Counter], token: str, cost: int) -> None:
        self.settled[token] = self.settled.get(token, 0) + 1
        await super().settle(counters, token, cost)


class DuringTheRetryWait(Stage):
    """When a retry is announced (its wait about to start): whether a request to the
    target would be refused by the limits now, and what the budgets hold."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.refusals: list[str | None] = []
        self.reserved: list[dict[str, tuple[float, float]]] = []

    async def on_event(self, ctx: Any, event: Any) -> None:
        if not isinstance(event, RetryEvent):
            return
        limits = self.dispatcher.limits
        scopes = limits.scopes_for("openai", TEST_MODELS["openai"])
        settings = limits.settings
        refusal = await limits.store.acquire(scopes, "probe", 0, settings.window, settings.lease)
        assert refusal is not None, "the probe was admitted: no hold"
        self.refusals.append(refusal.limit)
        self.reserved.append(await spent_by_budget(self.dispatcher))


async def test_a_429_with_retry_after_holds_the_target_is_retried_and_settled_once(
    make: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = await make(
        limits={"openai": {"requests_per_minute": 100, "max_concurrent": 2}},
        budgets=[{"provider": "openai", "per_day": 5.0}],
        defaults={"circuit": {"failure_threshold": 1}, "retry": {"max_retries": 2}},
    )
    dispatcher.budgets.store = store = CountingStore()
    fake_server.enqueue(Script(status=429, retry_after=0.3), provider="openai")
    fake_server.enqueue(Script(chunks=["after ", "the hold"], usage=(20, 2)), provider="openai")
    during = DuringTheRetryWait(dispatcher)
    stream = streamer(dispatcher, ["openai", "anthropic"], stages=(during,))("hi")
    assert await collected(stream) == "after the hold"
    # While the retry waited, the 429's Retry-After held the target, and the budget held
    # the attempt's one estimate (nothing spent yet: a 429 bills nothing).
    assert during.refusals == ["retry_after"]
    [held] = during.reserved
    assert held["provider openai"][0] == 0.0 and held["provider openai"][1] > 0

    assert outcomes(stream) == [("openai", "rate_limit"), ("openai", "ok")]
    refused, served = fake_server.requests_for("openai")
    # The retry went out once the hold (and Retry-After) had passed.
    assert served.received_at - refused.received_at >= 0.3
    assert not fake_server.requests_for("anthropic")
    assert in_use(dispatcher, "openai") == 0
    # One reservation covered both tries and was settled once, with what they cost.
    assert store.reservations == 1 and list(store.settled.values()) == [1]
    cost = sum(a.cost_usd or 0.0 for a in stream.attempts)
    assert cost == pytest.approx(0.022)
    assert await spent_by_budget(dispatcher) == {"provider openai": (round(cost, 9), 0.0)}
    status = await dispatcher.circuit.status(OPENAI)
    assert status.state is CircuitState.CLOSED and status.failures == 0


# -- what the observability shows of a refusal ----------------------------------------------


async def test_a_budget_refusal_in_spans_and_metrics(
    telemetry: Telemetry,  # noqa: F811
    make: Any,
    fake_server: FakeProviderServer,
) -> None:
    dispatcher = await make(budgets=[{"provider": "openai", "per_day": 0.000001}])
    with pytest.raises(BudgetExceeded):
        await collected(streamer(dispatcher, ["openai"])("hi"))
    assert not fake_server.requests

    span, [tried] = telemetry.stream()
    assert span.attributes["error.type"] == "budget_exceeded"
    assert span.attributes["llm_dispatch.outcome"] == "error"
    assert span.status.status_code is StatusCode.ERROR
    assert tried.attributes["error.type"] == "budget_exceeded"
    assert tried.attributes["llm_dispatch.attempt"] == 0
    assert "gen_ai.usage.input_tokens" not in tried.attributes  # nothing was sent
    target = {"provider": "openai", "model": TEST_MODELS["openai"]}
    assert (
        telemetry.sample(
            "llm_dispatch_requests_total", **target, outcome="error", error_type="budget_exceeded"
        )
        == 1
    )
    assert telemetry.sample("llm_dispatch_attempts_total", **target, outcome="budget_exceeded") == 1
    assert telemetry.sample("llm_dispatch_tokens_total", **target, type="input") is None
    [(attributes, _)] = telemetry.points("gen_ai.client.operation.duration")
    assert attributes["error.type"] == "budget_exceeded"
    assert telemetry.open_spans() == []


async def test_a_limit_refusal_in_spans_and_metrics(
    telemetry: Telemetry,  # noqa: F811
    make: Any,
    fake_server: FakeProviderServer,
) -> None:
    dispatcher = await make(
        limits={"openai": {"requests_per_minute": 1, "on_limit": "fallback"}},
        budgets=[{"provider": "openai", "per_day": 5.0}],
    )
    fake_server.enqueue(Script(chunks=["one"], usage=(20, 2)), provider="openai")
    assert await collected(streamer(dispatcher, ["openai"])("first")) == "one"
    with pytest.raises(AllProvidersFailed) as failed:
        await collected(streamer(dispatcher, ["openai"])("second"))
    assert isinstance(failed.value.last, LimitReached)
    # The refused attempt's budget hold was given back: only the first call is spent.
    assert await spent_by_budget(dispatcher) == {"provider openai": (0.022, 0.0)}

    [_, refused] = telemetry.streams()
    [tried] = telemetry.tries(refused)
    assert refused.attributes["error.type"] == "limit_reached"
    assert refused.status.status_code is StatusCode.ERROR
    assert tried.attributes["error.type"] == "limit_reached"
    assert tried.attributes["llm_dispatch.attempt"] == 0
    target = {"provider": "openai", "model": TEST_MODELS["openai"]}
    assert (
        telemetry.sample(
            "llm_dispatch_requests_total", **target, outcome="error", error_type="limit_reached"
        )
        == 1
    )
    assert telemetry.sample("llm_dispatch_attempts_total", **target, outcome="limit_reached") == 1
    assert telemetry.open_spans() == []


async def test_a_retry_refused_by_a_limit_in_spans_and_metrics(
    telemetry: Telemetry,  # noqa: F811
    make: Any,
    fake_server: FakeProviderServer,
) -> None:
    dispatcher = await make(
        limits={"openai": {"requests_per_minute": 1, "on_limit": "fallback"}},
        defaults={"retry": {"max_retries": 1}},
    )
    fake_server.enqueue(Script(status=503), provider="openai")
    fake_server.enqueue(Script(chunks=["fallback"]), provider="anthropic")
    stream = streamer(dispatcher, ["openai", "anthropic"])("hi")
    assert await collected(stream) == "fallback"
    assert outcomes(stream) == [
        ("openai", "overloaded"),
        ("openai", "limit_reached"),
        ("anthropic", "ok"),
    ]
    _, tries = telemetry.stream()
    assert [
        (t.attributes["llm_dispatch.provider"], t.attributes.get("error.type")) for t in tries
    ] == [
        ("openai", "overloaded"),
        ("openai", "limit_reached"),
        ("anthropic", None),
    ]
    openai = {"provider": "openai", "model": TEST_MODELS["openai"]}
    assert telemetry.sample("llm_dispatch_attempts_total", **openai, outcome="limit_reached") == 1
    # The refused retry was never sent: no retry is counted.
    assert telemetry.sample("llm_dispatch_retries_total", **openai, error_type="overloaded") is None


# -- the cloud kinds under limits, budgets and observability --------------------------------

#: Each cloud kind, and the platform ``gen_ai.provider.name`` names it by.
CLOUD_SYSTEMS = [
    ("azure_openai", "azure.ai.openai"),
    ("google_vertex", "gcp.vertex_ai"),
    ("anthropic_vertex", "gcp.vertex_ai"),
    ("anthropic_bedrock", "aws.bedrock"),
]


@pytest.mark.parametrize(("kind", "system"), CLOUD_SYSTEMS)
async def test_a_cloud_kind_under_limits_budgets_and_observability(
    telemetry: Telemetry,  # noqa: F811
    make: Any,
    fake_server: FakeProviderServer,
    cloud_env: None,
    kind: str,
    system: str,
) -> None:
    name, model = f"my-{kind}", MODELS[kind]
    entry = provider_entry(fake_server, kind)
    entry["limits"] = {"requests_per_minute": 2, "max_concurrent": 1, "on_limit": "fallback"}
    dispatcher = await make(
        providers={name: entry},
        budgets=[{"provider": name, "per_day": 5.0}],
        defaults={"circuit": {"failure_threshold": 1}, "retry": {"max_retries": 1}},
    )
    await dispatcher.warm_up([name])
    # A 429 with Retry-After reads as on the base kind: the target held, then retried.
    fake_server.enqueue(Script(status=429, retry_after=0.2), provider=kind)
    fake_server.enqueue(Script(chunks=["from ", "the cloud"], usage=(20, 2)), provider=kind)
    stream = streamer(dispatcher, [name, "openai"])("hi")
    assert await collected(stream) == "from the cloud"
    assert outcomes(stream) == [(name, "rate_limit"), (name, "ok")]
    refused, served = fake_server.requests_for(kind)
    assert refused.status == 429 and served.received_at - refused.received_at >= 0.2
    status = await dispatcher.circuit.status(f"{name}/{model}")
    assert status.state is CircuitState.CLOSED and status.failures == 0
    assert in_use(dispatcher, name) == 0
    cost = sum(a.cost_usd or 0.0 for a in stream.attempts)
    assert cost == pytest.approx(0.022)
    assert await spent_by_budget(dispatcher) == {f"provider {name}": (round(cost, 9), 0.0)}
    # The spans and metrics name the platform as the conventions do.
    span, tries = telemetry.stream()
    for named in (span, *tries):
        assert named.attributes["gen_ai.provider.name"] == system
        assert named.attributes["llm_dispatch.provider"] == name
    assert [t.attributes.get("error.type") for t in tries] == ["rate_limit", None]
    assert span.attributes["llm_dispatch.retries"] == 1
    [(attributes, _)] = telemetry.points("gen_ai.client.operation.duration")
    assert attributes["gen_ai.provider.name"] == system

    # Both tries counted: the next call is refused by the limit and falls back.
    fake_server.enqueue(Script(chunks=["fallback"]), provider="openai")
    after = streamer(dispatcher, [name, "openai"])("again")
    assert await collected(after) == "fallback"
    assert outcomes(after) == [(name, "limit_reached"), ("openai", "ok")]
    assert await spent_by_budget(dispatcher) == {f"provider {name}": (round(cost, 9), 0.0)}


# -- the consumer leaves mid-race -----------------------------------------------------------


def library_tasks() -> list[asyncio.Task[Any]]:
    """Tasks of the library still alive (the fake server's own are not)."""
    left = []
    for task in asyncio.all_tasks():
        if task is asyncio.current_task() or task.done():
            continue
        code = getattr(task.get_coro(), "cr_code", None)
        where = code.co_filename if code is not None else ""
        if task.get_name().startswith("llm_dispatch") or (
            "llm_dispatch" in where and "testing" not in where
        ):
            left.append(task)
    return left


EVERYTHING_ON = {
    "limits": {
        "openai": {"max_concurrent": 1, "requests_per_minute": 100, "on_limit": "fallback"},
        "anthropic": {"max_concurrent": 1, "requests_per_minute": 100, "on_limit": "fallback"},
    },
    "budgets": PER_TARGET_BUDGETS,
}


async def nothing_left_behind(dispatcher: Dispatcher, fake_server: FakeProviderServer) -> None:
    """No task of the library alive, every request closed, every slot given back: a call
    to each target that may not wait for a slot is admitted at once."""
    assert library_tasks() == []
    for request in fake_server.requests:
        assert await closed(request)
    for provider in ("openai", "anthropic"):
        assert await slots(dispatcher, provider) == 0
        fake_server.enqueue(Script(chunks=["free"]), provider=provider)
        follow = streamer(dispatcher, [provider])("again")
        assert await collected(follow) == "free"
    assert library_tasks() == []


async def test_cancelled_mid_race_leaves_nothing_behind(
    telemetry: Telemetry,  # noqa: F811
    make: Any,
    fake_server: FakeProviderServer,
    stores: dict[str, Any],
) -> None:
    dispatcher = await make(**EVERYTHING_ON, defaults=stores)
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slower"]), provider="anthropic")
    stream = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE)("hi")
    consumer = asyncio.create_task(collected(stream))
    await until(lambda: len(fake_server.requests) == 2)  # both racers' requests are out
    assert (await slots(dispatcher, "openai"), await slots(dispatcher, "anthropic")) == (1, 1)
    # The stream's span and a try span per racer are open.
    models = [TEST_MODELS["openai"], TEST_MODELS["openai"], TEST_MODELS["anthropic"]]
    assert sorted(telemetry.open_spans()) == sorted(f"chat {model}" for model in models)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer

    assert sorted(outcomes(stream)) == [("anthropic", "cancelled"), ("openai", "cancelled")]
    [lost_a, lost_b] = stream.attempts
    spent = await spent_by_budget(dispatcher)
    assert spent == {
        "provider openai": (round(lost_a.cost_usd or 0.0, 9), 0.0),
        "provider anthropic": (round(lost_b.cost_usd or 0.0, 9), 0.0),
        "route default": (round((lost_a.cost_usd or 0.0) + (lost_b.cost_usd or 0.0), 9), 0.0),
    }
    span, tries = telemetry.stream()
    assert telemetry.open_spans() == []
    await nothing_left_behind(dispatcher, fake_server)
    assert span.attributes["llm_dispatch.outcome"] == "cancelled"
    assert [t.attributes["error.type"] for t in tries] == ["cancelled", "cancelled"]


async def test_leaving_after_the_first_chunk_of_a_hedged_call_leaves_nothing_behind(
    telemetry: Telemetry,  # noqa: F811
    make: Any,
    fake_server: FakeProviderServer,
    stores: dict[str, Any],
) -> None:
    dispatcher = await make(**EVERYTHING_ON, defaults=stores)
    fake_server.enqueue(Script(first_delay=SLOW, chunks=["slow"]), provider="openai")
    fake_server.enqueue(
        Script(chunks=["fast ", "and ", "long"], chunk_delay=SLOW), provider="anthropic"
    )
    stream = streamer(dispatcher, ["openai", "anthropic"], policy=HEDGE)("hi")
    chunks = stream.__aiter__()
    async with asyncio.timeout(20):
        assert await anext(chunks) == "fast "
    await stream.aclose()

    assert outcomes(stream) == [("openai", "hedged"), ("anthropic", "cancelled")]
    lost, left = stream.attempts
    spent = await spent_by_budget(dispatcher)
    assert spent == {
        "provider openai": (round(lost.cost_usd or 0.0, 9), 0.0),
        "provider anthropic": (round(left.cost_usd or 0.0, 9), 0.0),
        "route default": (round((lost.cost_usd or 0.0) + (left.cost_usd or 0.0), 9), 0.0),
    }
    span, tries = telemetry.stream()
    assert telemetry.open_spans() == []
    await nothing_left_behind(dispatcher, fake_server)
    assert span.attributes["llm_dispatch.outcome"] == "cancelled"
    assert [t.attributes["error.type"] for t in tries] == ["hedged", "cancelled"]
