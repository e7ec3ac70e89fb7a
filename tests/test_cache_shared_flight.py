"""Single-flight across processes: identical calls of caches sharing one Redis share one
provider stream (cache/shared_flight.py). Separate ``StreamingCache`` instances (separate
connections, separate in-process flights) stand for separate processes; the process tests
are in test_cache_shared_processes.py."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from conftest import fake_providers

from llm_dispatch import AllProvidersFailed, llm_stream
from llm_dispatch.cache import StreamingCache
from llm_dispatch.cache.flight_board import FlightBoard
from llm_dispatch.cache.flight_records import decode_record, encode_event
from llm_dispatch.cache.shared_flight import shared_stream
from llm_dispatch.errors import IncompleteStreamError
from llm_dispatch.events import ProviderEvent, ToolCallDelta, Usage
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

try:
    from cache_fixtures import REDIS_URL, redis_is_up, unique_namespace
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import REDIS_URL, redis_is_up, unique_namespace

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379"),
]

CHUNKS = [f"word{i} " for i in range(24)]
LEASE = 1.5  # seconds: short, so that a dead leader is noticed quickly


@pytest.fixture
async def raw() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def namespace(raw: aioredis.Redis) -> AsyncIterator[str]:
    ns = unique_namespace()
    yield ns
    keys = [k async for k in raw.scan_iter(match=f"{ns}:*")]
    if keys:
        await raw.unlink(*keys)


@pytest.fixture
async def caches(namespace: str) -> AsyncIterator[Callable[..., StreamingCache]]:
    """Caches on the real Redis in one namespace, each with its own connections."""
    made: list[StreamingCache] = []

    def make(**options: Any) -> StreamingCache:
        options.setdefault("flight_lease", LEASE)
        cache = StreamingCache(backend=REDIS_URL, namespace=namespace, **options)
        made.append(cache)
        return cache

    yield make
    for cache in made:
        await cache.aclose()


async def until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (the fake server's state has no event to wait on)."""
    while True:
        if condition():
            return
        await asyncio.sleep(0.01)


def answerer(dispatcher: Any, cache: StreamingCache, **options: Any) -> Any:
    @llm_stream(dispatcher=dispatcher, cache=cache, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer


async def test_separate_caches_share_one_provider_request(
    caches: Callable[..., StreamingCache],
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
    raw: aioredis.Redis,
    namespace: str,
) -> None:
    priced = fake_providers(fake_server)["openai"]
    priced["prices"] = {"gpt-4o-mini": {"input": 0.15, "output": 0.60}}
    dispatcher = make_dispatcher(providers={"openai": priced})
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.02, usage=(1000, 500)))
    answers = [answerer(dispatcher, caches(), providers=["openai"]) for _ in range(4)]

    async def ask(answer: Any) -> Any:
        async with asyncio.timeout(20):
            return await answer("One question, four caches").collect()

    done = await asyncio.gather(*(ask(a) for a in answers))
    assert len(fake_server.requests) == 1
    assert [d.get_text() for d in done] == ["".join(CHUNKS)] * 4
    # Charged once: the followers' ledgers show the usage at no cost, as for a joiner.
    assert sorted(d.cost_usd for d in done)[:3] == [0.0] * 3
    assert max(d.cost_usd for d in done) == pytest.approx(0.00045)
    assert all(d.usage.total_tokens == 1500 for d in done)
    # The finished flight lingers one lease, its stream two, then both are gone (on a busy
    # machine the lease may be gone before this looks: every key found must expire).
    flight_keys = [k async for k in raw.scan_iter(match=f"{namespace}:f:*")]
    assert len(flight_keys) <= 2
    for key in flight_keys:
        ttl = await raw.pttl(key)
        assert ttl == -2 or 0 < ttl <= 2 * LEASE * 1000, (key, ttl)

    async def flight_keys_left() -> list[bytes]:
        return [k async for k in raw.scan_iter(match=f"{namespace}:f:*")]

    for _ in range(int((4 * LEASE + 5) / 0.1)):
        if not await flight_keys_left():
            break
        await asyncio.sleep(0.1)
    assert await flight_keys_left() == []


async def test_shared_flights_off_keeps_each_cache_to_its_own(
    caches: Callable[..., StreamingCache],
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
    raw: aioredis.Redis,
    namespace: str,
) -> None:
    dispatcher = make_dispatcher()
    fake_server.default = Script(chunks=CHUNKS, chunk_delay=0.01)
    mine = [caches(shared_flights=False) for _ in range(2)]
    assert all(c.flight_board() is None for c in mine)
    assert StreamingCache().flight_board() is None  # memory: no other process to share with
    answers = [answerer(dispatcher, c, providers=["openai"]) for c in mine]
    async with asyncio.timeout(20):
        done = await asyncio.gather(*(a("Each on its own").collect() for a in answers))
    assert [d.get_text() for d in done] == ["".join(CHUNKS)] * 2
    assert len(fake_server.requests) == 2
    assert [k async for k in raw.scan_iter(match=f"{namespace}:f:*")] == []


async def test_a_late_caller_reads_the_stream_from_its_first_event(
    caches: Callable[..., StreamingCache], fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher()
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.03))
    first, late = (answerer(dispatcher, caches(), providers=["openai"]) for _ in range(2))
    led: list[str] = []
    async with asyncio.timeout(20):
        async for chunk in first("Late joiners see it all"):
            led.append(chunk)
            if len(led) == 6:
                joined = await late("Late joiners see it all").collect()
    assert joined.get_text() == "".join(led) == "".join(CHUNKS)
    assert len(fake_server.requests) == 1


async def test_leader_failing_before_its_first_event_hands_over_to_a_follower(
    caches: Callable[..., StreamingCache], fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    # No retries: the leader's call fails with the provider's error; its followers must not.
    dispatcher = make_dispatcher(defaults={"retry": {"max_retries": 0}, "fallback": False})
    fake_server.enqueue(Script(status=500, first_delay=0.3))
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.01))
    leader, *followers = (answerer(dispatcher, caches(), providers=["openai"]) for _ in range(4))
    async with asyncio.timeout(20):
        failing = asyncio.create_task(leader("Who leads next?").collect())
        await until(lambda: bool(fake_server.requests))
        texts = await asyncio.gather(*(f("Who leads next?").collect() for f in followers))
        with pytest.raises(AllProvidersFailed):
            await failing
    assert [t.get_text() for t in texts] == ["".join(CHUNKS)] * 3
    assert len(fake_server.requests) == 2  # the failed one, and one for all three followers


async def test_followers_cut_off_mid_stream_share_one_continuation(
    caches: Callable[..., StreamingCache], fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    answer_text = "".join(CHUNKS).rstrip()
    dispatcher = make_dispatcher(defaults={"mid_stream": "continue"})
    fake_server.enqueue(Script(text=answer_text, chunk_delay=0.03), provider="openai")
    fake_server.enqueue(
        Script(text=answer_text, continuation="follow", chunk_delay=0.005), provider="anthropic"
    )
    route = ["openai", "anthropic"]
    await dispatcher.warm_up(route)  # the SDK imports are not what the deadline below times
    leader, *followers = (answerer(dispatcher, caches(), providers=route) for _ in range(3))
    prompt = "Cut off, continued once"
    got: list[list[str]] = [[], []]

    async def follow(answer: Any, out: list[str]) -> None:
        async for chunk in answer(prompt):
            out.append(chunk)

    async with asyncio.timeout(30):
        tasks: list[asyncio.Task[None]] = []
        async for _ in leader(prompt):
            if not tasks:
                tasks = [
                    asyncio.create_task(follow(f, o)) for f, o in zip(followers, got, strict=True)
                ]
            if all(got):
                break  # the leading caller leaves: its flight ends as failed, mid-stream
        await asyncio.gather(*tasks)
    assert ["".join(o) for o in got] == [answer_text] * 2
    first, *rest = fake_server.requests
    assert first.provider == "openai" and first.disconnected
    assert [r.provider for r in rest] == ["anthropic"]  # one continuation for both
    partial = rest[0].partial_answer
    assert partial and answer_text.startswith(partial) and partial != answer_text


# -- the flight itself, with a leader that is only records in Redis --------------------------


def board_of(
    client: aioredis.Redis, namespace: str, errors: list[str] | None = None
) -> FlightBoard:
    def on_error(operation: str, exc: BaseException) -> None:
        if errors is not None:
            errors.append(type(exc).__name__)

    return FlightBoard(client, namespace, lease=LEASE, timeout=1.0, on_error=on_error)


class Live:
    """A provider stream that counts how often it was opened."""

    def __init__(self, chunks: list[str]) -> None:
        self.chunks = chunks
        self.opened = 0

    def __call__(self) -> AsyncGenerator[ProviderEvent, None]:
        return self._run()

    async def _run(self) -> AsyncGenerator[ProviderEvent, None]:
        self.opened += 1
        for chunk in self.chunks:
            await asyncio.sleep(0.005)
            yield ProviderEvent(text=chunk)
        yield ProviderEvent(usage=Usage.of(3, len(self.chunks)), finish_reason="stop")


async def collect(stream: AsyncIterator[ProviderEvent], into: list[str]) -> None:
    async for event in stream:
        into.append(event.text)


async def dead_leader(board: FlightBoard, flight: str, texts: list[str]) -> None:
    """A leader that claimed ``flight``, published ``texts`` and died (no end record)."""
    assert await board.claim(flight, "dead") == "dead"
    records = [encode_event(ProviderEvent(text=t)) for t in texts]
    assert await board.publish(flight, "dead", records, "")


async def test_followers_of_a_leader_that_died_before_its_first_event_elect_one(
    raw: aioredis.Redis, namespace: str
) -> None:
    board = board_of(raw, namespace)
    await dead_leader(board, "f1", [])
    live = Live(CHUNKS)
    outs: list[list[str]] = [[], [], []]
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(3 * LEASE + 10):
        await asyncio.gather(
            *(collect(shared_stream(board, "f1", live, provider="p", model="m"), o) for o in outs)
        )
    # Nobody asked before the lease ran out; then exactly one asked for all three.
    assert loop.time() - started >= LEASE * 0.9
    assert live.opened == 1
    assert all("".join(o) == "".join(CHUNKS) for o in outs)


async def test_followers_of_a_leader_that_died_mid_stream_fail_with_the_same_text(
    raw: aioredis.Redis, namespace: str
) -> None:
    board = board_of(raw, namespace)
    await dead_leader(board, "f2", CHUNKS[:5])
    live = Live(CHUNKS)
    outs: list[list[str]] = [[], []]
    async with asyncio.timeout(3 * LEASE + 10):
        results = await asyncio.gather(
            *(collect(shared_stream(board, "f2", live, provider="p", model="m"), o) for o in outs),
            return_exceptions=True,
        )
    assert all(isinstance(r, IncompleteStreamError) for r in results), results
    assert outs == [CHUNKS[:5], CHUNKS[:5]]  # everything the leader published, nothing else
    assert live.opened == 0


async def test_a_failed_end_record_is_a_clean_miss(raw: aioredis.Redis, namespace: str) -> None:
    board = board_of(raw, namespace)
    assert await board.claim("f3", "gone") == "gone"
    assert await board.publish("f3", "gone", [("err", "ServerError")], "failed")
    assert await raw.exists(board.lease_key("f3")) == 0  # released at once
    live = Live(CHUNKS)
    out: list[str] = []
    async with asyncio.timeout(10):
        await collect(shared_stream(board, "f3", live, provider="p", model="m"), out)
    assert live.opened == 1 and "".join(out) == "".join(CHUNKS)


async def test_an_unreachable_redis_degrades_to_this_process(namespace: str) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    errors: list[str] = []
    board = board_of(client, namespace, errors)
    live = Live(CHUNKS)
    out: list[str] = []
    try:
        async with asyncio.timeout(10):
            await collect(shared_stream(board, "f4", live, provider="p", model="m"), out)
    finally:
        await client.aclose()
    assert live.opened == 1 and "".join(out) == "".join(CHUNKS)
    assert len(errors) == 1  # refused, or no connection within the bound: one warning


async def test_a_redis_failure_while_leading_never_touches_the_answer(
    caches: Callable[..., StreamingCache],
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
    namespace: str,
) -> None:
    cache = caches(backend_timeout=0.5)
    answer = answerer(make_dispatcher(), cache, providers=["openai"])
    fake_server.enqueue(Script(chunks=CHUNKS, chunk_delay=0.01))
    board = cache.flight_board()
    assert board is not None
    # The publishing's next call fails: Redis "goes away" once the flight is claimed.
    real_publish = board.publish

    async def failing(*args: Any, **kwargs: Any) -> bool:
        raise ConnectionError("redis went away")

    board.publish = failing  # type: ignore[method-assign]
    with capture_events() as events:
        async with asyncio.timeout(20):
            text = (await answer("Answer me anyway").collect()).get_text()
    board.publish = real_publish  # type: ignore[method-assign]
    assert text == "".join(CHUNKS)
    warned = [(e["event"], e.get("operation")) for e in events if e["log_level"] == "warning"]
    assert warned == [("cache_backend_error", "flight")]
    assert cache.stats().errors == 1


def test_records_round_trip_every_kind_of_event() -> None:
    events = [
        ProviderEvent(text="Hello"),
        ProviderEvent(reasoning="thinking"),
        ProviderEvent(reasoning_signature="sig"),
        ProviderEvent(tool_call=ToolCallDelta(1, "call_1", "lookup", '{"q":', "ts")),
        ProviderEvent(usage=Usage.of(5, 7, reasoning=2), finish_reason="stop"),
    ]
    for event in events:
        kind, value = encode_event(event)
        record = decode_record({b"k": kind.encode(), b"v": value.encode()})
        assert record.event == event and record.end is None
    assert decode_record({"k": "end", "v": ""}).end == "complete"
    failed = decode_record({"k": "err", "v": "ServerError"})
    assert failed.end == "failed" and failed.reason == "ServerError"
    with pytest.raises(ValueError):
        decode_record({"k": "?", "v": ""})


def test_flights_are_keyed_under_the_cache_namespace() -> None:
    board = FlightBoard(_NoClient(), "ns", lease=10, timeout=2, on_error=lambda o, e: None)
    flight = hashlib.sha256(b"x").hexdigest()[:32]
    assert board.lease_key(flight) == f"ns:f:{flight}"
    assert board.stream_key(flight, "t0") == f"ns:f:{flight}:t0"
    assert board.block == pytest.approx(1.0)  # half the backend timeout, under a third of lease


class _NoClient:
    def register_script(self, script: str) -> Any:
        return None
