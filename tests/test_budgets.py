"""Budgets in one process: a cap refuses a call before anything is sent, the estimate held
while a call runs is replaced by what the ledger charged once it ends (however it ends,
exactly once), day and month windows follow an injected clock, and the call's scope
reaches the budgets on every way in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest

from llm_dispatch import (
    AllProvidersFailed,
    BudgetExceeded,
    Client,
    ConfigError,
    Dispatcher,
    StreamInterrupted,
    StreamTimeout,
    Switch,
    llm_stream,
    llm_stream_with_metadata,
    run_tools,
)
from llm_dispatch.budgets import Counter, MemoryBudgetStore
from llm_dispatch.errors import OverloadedError
from llm_dispatch.testing import FakeProviderServer, Script, ScriptedToolCall

try:
    from budget_fixtures import DAY, FakeClock, budget_config
except ImportError:  # tests/ imported as a package
    from tests.budget_fixtures import DAY, FakeClock, budget_config

pytestmark = pytest.mark.timeout(60)

CHUNKS = ["one ", "two ", "three ", "four"]


class CountingStore(MemoryBudgetStore):
    """The in-memory store, counting settlements per reservation."""

    def __init__(self) -> None:
        super().__init__()
        self.settled: dict[str, int] = {}

    async def settle(self, counters: Sequence[Counter], token: str, cost: int) -> None:
        self.settled[token] = self.settled.get(token, 0) + 1
        await super().settle(counters, token, cost)


@pytest.fixture
async def budgeted(
    fake_server: FakeProviderServer, clean_provider_env: None
) -> AsyncIterator[Callable[..., Dispatcher]]:
    """``make(budgets, defaults=..., routes=...)``: a dispatcher over the priced fake
    providers, on an injected clock (``dispatcher.budgets.clock``) and a counting store."""
    made: list[Dispatcher] = []

    def make(budgets: list[dict[str, Any]], **sections: Any) -> Dispatcher:
        dispatcher = Dispatcher(budget_config(fake_server, budgets, **sections))
        dispatcher.budgets.clock = FakeClock()
        dispatcher.budgets.store = CountingStore()
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        await dispatcher.aclose()


def answerer(dispatcher: Dispatcher, **options: Any) -> Any:
    options.setdefault("max_tokens", 10)

    @llm_stream(dispatcher=dispatcher, timeout=20, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


async def status(dispatcher: Dispatcher, scope: str | None = None) -> tuple[float, float]:
    """Spent and reserved (USD) of the dispatcher's one budget window (the first)."""
    first = (await dispatcher.budgets.status(scope=scope))[0]
    return first.spent_usd, first.reserved_usd


def settlements(dispatcher: Dispatcher) -> list[int]:
    store = dispatcher.budgets.store
    assert isinstance(store, CountingStore)
    return list(store.settled.values())


# -- refused before anything is sent --------------------------------------------------------


async def test_a_call_over_a_route_cap_raises_before_anything_is_sent(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted([{"route": "default", "per_day": 0.05}])
    # 100 output tokens at 0.001 USD each: an estimate over the cap, for either target.
    stream = answerer(dispatcher, max_tokens=100)("Say hello")
    with pytest.raises(BudgetExceeded) as caught:
        await stream.collect()

    exc = caught.value
    assert fake_server.requests == []  # neither openai nor the route's other targets
    assert (exc.budget, exc.level, exc.period, exc.window) == (
        "route default",
        "route",
        "day",
        "2026-12-07",
    )
    assert exc.cap_usd == 0.05 and exc.spent_usd == 0 and exc.reserved_usd == 0
    assert exc.estimate_usd > 0.1
    assert not exc.allows_fallback and exc.kind.value == "budget_exceeded"
    assert "budget 'route default' per day (2026-12-07)" in str(exc)
    assert "cap of $0.050000" in str(exc) and "nothing was sent" in str(exc)
    [record] = stream.attempts
    assert (record.provider, record.outcome, record.charged) == ("openai", "budget_exceeded", False)
    assert exc.attempts == stream.attempts
    assert await status(dispatcher) == (0.0, 0.0)  # the refusal holds nothing


async def test_a_provider_cap_moves_on_to_the_routes_next_target(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted([{"provider": "openai", "per_day": 0.05}])
    stream = answerer(dispatcher, max_tokens=100)("Say hello")
    await stream.collect()
    assert stream.provider == "anthropic"
    assert [(a.provider, a.outcome) for a in stream.attempts] == [
        ("openai", "budget_exceeded"),
        ("anthropic", "ok"),
    ]
    assert fake_server.requests_for("openai") == []
    # With no other target, the call ends on the refusal.
    only_openai = answerer(dispatcher, max_tokens=100, providers=["openai"])("Say hello")
    with pytest.raises(BudgetExceeded) as caught:
        await only_openai.collect()
    assert caught.value.level == "provider" and caught.value.provider == "openai"
    assert fake_server.requests_for("openai") == []
    # Refused on the last target after others failed: the call ends on the refusal, which
    # lists every attempt.
    fake_server.enqueue(Script(status=503), provider="anthropic", times=3)
    answer = answerer(dispatcher, max_tokens=100, providers=["anthropic", "openai"])
    with pytest.raises(BudgetExceeded) as caught:
        await answer("Say hello").collect()
    assert [a.outcome for a in caught.value.attempts] == ["overloaded"] * 3 + ["budget_exceeded"]


async def test_a_model_without_a_price_under_a_budget_is_refused(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted([{"provider": "openai", "per_day": 5}])
    async with Client(dispatcher=dispatcher) as client:
        with pytest.raises(ConfigError) as caught:
            await client.stream("hi", provider="openai", model="gpt-4.1-nano").collect()
    assert 'providers.openai.prices["gpt-4.1-nano"]' in str(caught.value)
    assert "budget 'provider openai' cannot be checked" in str(caught.value)
    assert fake_server.requests == []


# -- held while running, settled once at the real cost ---------------------------------------


async def test_the_real_cost_replaces_the_estimate_when_the_stream_ends(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted([{"provider": "openai", "per_day": 10}])
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(12, 30)), provider="openai")
    stream = answerer(dispatcher, max_tokens=100, providers=["openai"])("Count to four")
    during = None
    async for _ in stream:
        if during is None:
            during = await status(dispatcher)
    assert during is not None
    spent, reserved = during
    # While it streams: nothing settled, the estimate held (at least the 100 output tokens).
    assert spent == 0 and 0.1 < reserved < 0.12
    # Once it ended: the provider's usage at the price (42 tokens), nothing held.
    assert stream.cost_usd == pytest.approx(0.042)
    assert await status(dispatcher) == (pytest.approx(0.042), 0.0)
    assert settlements(dispatcher) == [1]


@pytest.mark.parametrize("how", ["aclose", "cancel"])
async def test_a_consumer_that_leaves_settles_once_at_what_was_charged(
    how: str, budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted([{"scope": "tenant-a", "per_month": 10}])
    chunks = [f"c{i} " for i in range(100)]
    fake_server.enqueue(Script(chunks=chunks, chunk_delay=0.01), provider="openai")
    answer = answerer(dispatcher, providers=["openai"], budget_scope="tenant-a")
    stream = answer("Go on")
    received: list[str] = []
    if how == "aclose":
        iterator = stream.__aiter__()
        received += [await iterator.__anext__(), await iterator.__anext__()]
        await iterator.aclose()
    else:
        three = asyncio.Event()

        async def consume() -> None:
            async for chunk in stream:
                received.append(chunk)
                if len(received) == 3:
                    three.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(three.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    [record] = stream.attempts
    assert record.outcome == "cancelled" and record.charged
    spent, reserved = await status(dispatcher, scope="tenant-a")
    assert reserved == 0
    assert spent == pytest.approx(record.cost_usd) and spent > 0
    assert settlements(dispatcher) == [1]


async def test_failures_settle_once_at_what_each_try_billed(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted(
        [{"provider": "openai", "per_day": 10}],
        defaults={"retry": {"max_retries": 1}, "timeouts": {"first_token": 0.3}},
    )
    answer = answerer(dispatcher, providers=["openai"])

    # Refused with 503 on both tries: the provider billed nothing.
    fake_server.enqueue(Script(status=503), provider="openai", times=2)
    with pytest.raises(AllProvidersFailed) as caught:
        await answer("first").collect()
    assert isinstance(caught.value.last, OverloadedError)
    assert await status(dispatcher) == (0.0, 0.0)

    # A first token later than its deadline, twice: each try's prompt is billed.
    fake_server.enqueue(Script(first_delay=2.0, chunks=["late"]), provider="openai", times=2)
    stream = answer("second")
    with pytest.raises((StreamTimeout, AllProvidersFailed)):
        await stream.collect()
    billed = sum(a.cost_usd or 0.0 for a in stream.attempts)
    assert len(stream.attempts) == 2 and billed > 0
    assert await status(dispatcher) == (pytest.approx(billed), 0.0)

    # Cut after two chunks: the prompt and the delivered text.
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=2), provider="openai")
    stream = answer("third")
    with pytest.raises(StreamInterrupted):
        await stream.collect()
    [record] = stream.attempts
    assert record.outcome == "connection" and record.chars == len("one two ")
    assert await status(dispatcher) == (pytest.approx(billed + record.cost_usd), 0.0)
    assert settlements(dispatcher) == [1, 1, 1]  # one per attempt, each once


async def test_a_continuation_a_cap_refuses_raises_the_interruption(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted(
        [{"provider": "anthropic", "per_day": 0.001}], defaults={"mid_stream": "continue"}
    )
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=2), provider="openai")
    received: list[str] = []
    with pytest.raises(StreamInterrupted) as caught:
        async for chunk in answerer(dispatcher, providers=["openai", "anthropic"])("Count"):
            received.append(chunk)
    assert caught.value.partial_text == "".join(received) == "one two "
    assert isinstance(caught.value.cause, BudgetExceeded)
    assert fake_server.requests_for("anthropic") == []


# -- windows ---------------------------------------------------------------------------------


async def test_day_and_month_windows_follow_the_clock(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    # Each call: estimate 0.011 (1 prompt token, 10 output tokens), real cost 0.010.
    dispatcher = budgeted([{"scope": "*", "per_day": 0.035, "per_month": 0.05}])
    fake_server.default = Script(text="fine", usage=(5, 5))
    clock = dispatcher.budgets.clock
    answer = answerer(dispatcher, providers=["openai"], budget_scope="t")

    async def outcome() -> str:
        try:
            await answer("hi").collect()
        except BudgetExceeded as exc:
            return f"{exc.period} {exc.window}"
        return "ok"

    assert [await outcome() for _ in range(4)] == ["ok", "ok", "ok", "day 2026-12-07"]
    clock.now += DAY  # the next day: a fresh day, the same month
    assert [await outcome() for _ in range(2)] == ["ok", "month 2026-12"]
    clock.at(2027, 1, 1, 0)  # a new month (and day)
    assert await outcome() == "ok"
    assert len(fake_server.requests) == 5


async def test_day_boundaries_follow_the_budgets_time_zone(budgeted: Any) -> None:
    dispatcher = budgeted(
        [
            {"name": "ny", "scope": "t", "per_day": 1, "timezone": "America/New_York"},
            {"name": "utc", "provider": "openai", "per_day": 1},
        ]
    )
    clock = dispatcher.budgets.clock
    clock.at(2026, 12, 7, 4)  # 23:00 the day before in New York
    windows = {s.budget: s.window for s in await dispatcher.budgets.status()}
    assert windows == {"ny": "2026-12-06", "utc": "2026-12-07"}
    clock.at(2026, 12, 7, 5)
    windows = {s.budget: s.window for s in await dispatcher.budgets.status()}
    assert windows == {"ny": "2026-12-07", "utc": "2026-12-07"}


# -- scopes ----------------------------------------------------------------------------------


async def test_each_scope_has_its_own_cap_and_unscoped_calls_are_not_counted(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted([{"scope": "*", "per_day": 0.015}])
    fake_server.default = Script(text="fine", usage=(5, 5))
    answer = answerer(dispatcher)
    await answer.with_options(budget_scope="a")("hi").collect()
    with pytest.raises(BudgetExceeded) as caught:  # a scope's cap ends the call
        await answer.with_options(budget_scope="a")("hi").collect()
    assert caught.value.budget == "scope *" and len(caught.value.attempts) == 1
    await answer.with_options(budget_scope="b")("hi").collect()
    await answer("hi").collect()
    await answer("hi").collect()
    assert len(fake_server.requests) == 4
    assert await status(dispatcher, scope="a") == (pytest.approx(0.01), 0.0)


async def test_the_scope_reaches_the_budgets_on_every_way_in(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    dispatcher = budgeted([{"scope": "tenant-a", "per_day": 0.001}])
    fake_server.default = Script(text="fine", usage=(5, 5))

    @llm_stream(dispatcher=dispatcher, budget_scope="tenant-a")
    async def text(prompt: str) -> Any:
        yield "unused"

    @llm_stream_with_metadata(dispatcher=dispatcher, budget_scope=lambda: "tenant-a")
    async def dicts(prompt: str) -> Any:
        yield "unused"

    client = Client(dispatcher=dispatcher)
    ways = {
        "llm_stream": lambda: text("hi").collect(),
        "llm_stream_with_metadata (a callable)": lambda: dicts("hi").collect(),
        "with_options": lambda: (
            answerer(dispatcher).with_options(budget_scope="tenant-a")("hi").collect()
        ),
        "Client.open": lambda: client.open("hi", budget_scope="tenant-a").collect(),
        "Client.stream": lambda: client.stream("hi", budget_scope="tenant-a").collect(),
        "Client.stream_with_usage": lambda: client.stream_with_usage("hi", budget_scope="tenant-a"),
        "Client.batch": lambda: client.batch(["hi"], budget_scope="tenant-a"),
        "a batch's request": lambda: client.batch([{"prompt": "hi", "budget_scope": "tenant-a"}]),
        "Switch": lambda: (
            Switch(dispatcher)
            .stream_request({"prompt": "hi", "budget_scope": "tenant-a"})
            .collect()
        ),
    }
    for way, call in ways.items():
        with pytest.raises(BudgetExceeded):
            await call()
        assert fake_server.requests == [], way
    await client.stream("hi").collect()  # no scope: not under the tenant's cap
    await client.stream("hi", budget_scope="tenant-b").collect()
    assert len(fake_server.requests) == 2


async def test_the_follow_up_turns_of_a_tool_loop_keep_the_scope(
    budgeted: Any, fake_server: FakeProviderServer
) -> None:
    # Room for one turn: the loop's second request (the tool's result) is refused.
    dispatcher = budgeted([{"scope": "tenant-a", "per_day": 0.015}])
    call = ScriptedToolCall("get_weather", {"city": "Paris"})
    fake_server.default = Script(tool_calls=[call], usage=(5, 5))

    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"sunny in {city}"

    ask = answerer(dispatcher, tools=[get_weather], budget_scope="tenant-a")
    loop = run_tools(ask("Weather in Paris?"), max_steps=3)
    with pytest.raises(BudgetExceeded) as caught:
        await loop.collect()
    assert caught.value.budget == "scope tenant-a"
    assert len(fake_server.requests) == 1 and loop.steps[0].tool_calls


async def test_bad_scopes_and_per_call_budget_settings_are_refused(budgeted: Any) -> None:
    dispatcher = budgeted([{"scope": "*", "per_day": 1}])
    with pytest.raises(TypeError, match="budget_scope= takes a string"):
        answerer(dispatcher, budget_scope=3)
    with pytest.raises(ValueError, match="a scope is 1 to 200 characters and not"):
        answerer(dispatcher, budget_scope="*")
    with pytest.raises(TypeError, match="not int"):
        answerer(dispatcher, budget_scope=lambda: 7)("hi")
    client = Client(dispatcher=dispatcher)
    with pytest.raises(ValueError, match="Client: budget_scope=''"):
        client.open("hi", budget_scope="")
    with pytest.raises(ValueError, match="'budgets' cannot be set per call"):
        client.open("hi", policy={"budgets": {"store": "memory"}})
    with pytest.raises(ValueError, match="'budgets' cannot be set per call"):
        answerer(dispatcher, policy={"budgets": {"timezone": "UTC"}})
