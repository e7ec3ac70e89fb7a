"""Redis-only behaviour: JSON-only storage, no secrets, cross-process sharing."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from aiocache import RedisCache
from aiocache.serializers import PickleSerializer

from llm_dispatch.cache import StreamingCache

try:
    from cache_fixtures import REDIS_URL, redis_is_up, req, stream, unique_namespace
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import REDIS_URL, redis_is_up, req, stream, unique_namespace

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379"),
]


@pytest.fixture
async def raw() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def cache() -> AsyncIterator[StreamingCache]:
    cache = StreamingCache(backend=REDIS_URL, namespace=unique_namespace(), ttl=60)
    yield cache
    await cache.clear()
    await cache.aclose()


async def keys_of(raw: aioredis.Redis, namespace: str) -> list[bytes]:
    return [k async for k in raw.scan_iter(match=f"{namespace}:*")]


async def test_values_are_json_never_pickle(cache: StreamingCache, raw: aioredis.Redis) -> None:
    await cache.store(req("Write a haiku about Python"), stream("Code ", "flows"), route="r")
    ns = cache.options.namespace
    entry_keys = [k for k in await keys_of(raw, ns) if k.startswith(f"{ns}:e:".encode())]
    assert len(entry_keys) == 1
    value = await raw.get(entry_keys[0])
    assert value is not None and not value.startswith(b"\x80")  # the pickle protocol marker
    doc = json.loads(value)
    assert doc["chunks"] == ["Code ", "flows"]
    assert doc["prompt"] == "Write a haiku about Python"
    assert doc["provider"] == "openai" and doc["finish_reason"] == "stop"
    assert 0 < await raw.pttl(entry_keys[0]) <= 60_000

    bucket_keys = [k for k in await keys_of(raw, ns) if k.startswith(f"{ns}:b:".encode())]
    assert len(bucket_keys) == 1
    for row in (await raw.hgetall(bucket_keys[0])).values():
        assert json.loads(row)["n"]


async def test_a_pickling_aiocache_instance_still_stores_json(raw: aioredis.Redis) -> None:
    given = RedisCache(endpoint="127.0.0.1", port=6379, serializer=PickleSerializer())
    cache = StreamingCache(backend=given, namespace=unique_namespace())
    try:
        await cache.store(req("q"), stream("json please"), route="r")
        ns = cache.options.namespace
        (key,) = [k for k in await keys_of(raw, ns) if b":e:" in k]
        assert json.loads(await raw.get(key))["chunks"] == ["json please"]
        hit = await cache.lookup(req("q"), route="r")
        assert hit is not None and hit.entry.text == "json please"
    finally:
        await cache.clear()
        await cache.aclose()  # does not close the caller's instance
        assert await given.set("still-open-probe", "1")
        await given.delete("still-open-probe")
        await given.client.aclose()


async def test_no_secret_reaches_keys_or_values(cache: StreamingCache, raw: aioredis.Redis) -> None:
    secret = "sk-live-TOPSECRET0123456789"
    request = req("q", extra={"api_key": secret, "headers": {"Authorization": f"Bearer {secret}"}})
    await cache.store(request, stream("answer"), route="r")
    assert await cache.lookup(req("q"), route="r") is not None
    for key in await keys_of(raw, cache.options.namespace):
        assert secret.encode() not in key
        kind = await raw.type(key)
        if kind == b"string":
            assert secret.encode() not in await raw.get(key)
        elif kind == b"hash":
            for value in (await raw.hgetall(key)).values():
                assert secret.encode() not in value


async def test_clear_removes_every_key_of_the_namespace(
    cache: StreamingCache, raw: aioredis.Redis
) -> None:
    for i in range(5):
        await cache.store(req(f"q{i}"), stream(), route="r")
    assert await keys_of(raw, cache.options.namespace)
    await cache.clear()
    assert await keys_of(raw, cache.options.namespace) == []


async def test_two_instances_share_entries_and_lru(raw: aioredis.Redis) -> None:
    ns = unique_namespace()
    one = StreamingCache(backend=REDIS_URL, namespace=ns, max_cache_size=2)
    two = StreamingCache(backend=REDIS_URL, namespace=ns, max_cache_size=2)
    try:
        await one.store(req("Write a haiku about Python"), stream("from one"), route="r")
        hit = await two.lookup(req("Please write a haiku about Python"), route="r")
        assert hit is not None and hit.entry.text == "from one" and not hit.exact
        await two.store(req("b"), stream(), route="r")
        await two.store(req("c"), stream(), route="r")
        # The bound is global: the entry stored by `one` was the least recently used.
        assert await one.size() == 2
        assert await one.lookup(req("b"), route="r") is not None
    finally:
        await one.clear()
        await one.aclose()
        await two.aclose()


# -- two OS processes -------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from llm_dispatch.cache import CachedStream, StreamingCache
    from llm_dispatch.request import Message, Request

    url, namespace, mode, prompt = sys.argv[1:5]

    async def main():
        cache = StreamingCache(backend=url, namespace=namespace)
        request = Request(messages=(Message(role="user", content=prompt),))
        if mode == "store":
            entry = CachedStream(chunks=("stored ", "by ", "the child"), provider="openai",
                                 model="gpt-4o-mini", finish_reason="stop")
            print(json.dumps({"stored": await cache.store(request, entry, route="r")}))
        else:
            hit = await cache.lookup(request, route="r")
            print(json.dumps(None if hit is None else
                             {"text": hit.entry.text, "exact": hit.exact}))
        await cache.aclose()

    asyncio.run(main())
    """
)


async def run_child(namespace: str, mode: str, prompt: str) -> object:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD,
        REDIS_URL,
        namespace,
        mode,
        prompt,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    return json.loads(out.decode().strip().splitlines()[-1])


async def test_another_process_stores_this_one_hits(cache: StreamingCache) -> None:
    ns = cache.options.namespace
    assert await run_child(ns, "store", "Write a haiku about Python") == {"stored": True}

    exact = await cache.lookup(req("write a haiku about python"), route="r")
    assert exact is not None and exact.exact and exact.entry.text == "stored by the child"
    similar = await cache.lookup(req("Please write a haiku about Python"), route="r")
    assert similar is not None and not similar.exact
    assert await cache.lookup(req("Write a haiku about Rust"), route="r") is None


async def test_this_process_stores_another_one_hits(cache: StreamingCache) -> None:
    ns = cache.options.namespace
    await cache.store(req("Convert 100 Fahrenheit to Celsius"), stream("37.8 C"), route="r")
    assert await run_child(ns, "lookup", "Please convert 100 Fahrenheit to Celsius") == {
        "text": "37.8 C",
        "exact": False,
    }
    assert await run_child(ns, "lookup", "Convert 101 Fahrenheit to Celsius") is None


def test_a_cache_survives_several_event_loops() -> None:
    """A cache made at import time may serve several ``asyncio.run`` calls."""
    cache = StreamingCache(backend=REDIS_URL, namespace=unique_namespace())
    assert asyncio.run(cache.store(req("q"), stream("answer"), route="r"))
    hit = asyncio.run(cache.lookup(req("q"), route="r"))
    assert hit is not None and hit.entry.text == "answer"

    async def finish() -> None:
        await cache.clear()
        await cache.aclose()

    asyncio.run(finish())
    assert cache.stats().errors == 0
