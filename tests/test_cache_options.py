"""Cache options, backends, vectorizers and partition keys."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from aiocache import SimpleMemoryCache
from pydantic import ValidationError

from llm_dispatch.cache import (
    CacheOptions,
    EmbeddingsAPIVectorizer,
    HashingVectorizer,
    StreamingCache,
    partition_key,
)
from llm_dispatch.cache.similarity import cosine, decode_vector, encode_vector

try:
    from cache_fixtures import req, stream
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import req, stream


@pytest.mark.parametrize(
    "bad",
    [
        {"similarity_threshold": 0},
        {"similarity_threshold": 1.01},
        {"max_cache_size": 0},
        {"ttl": 0},
        {"backend": "memcached://x"},
        {"backend": "redis"},
        {"backend": "redis", "url": "http://x"},
        {"url": "redis://127.0.0.1:6379/0"},
        {"backend": "redis://127.0.0.1:6379/0", "url": "redis://127.0.0.1:6379/1"},
        {"namespace": "has space"},
        {"replay_timing": "slow"},
        {"unknown": 1},
    ],
)
def test_invalid_options_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CacheOptions(**bad)


def test_constructor_validates_too() -> None:
    with pytest.raises(ValidationError):
        StreamingCache(similarity_threshold=1.5)


def test_seed_defaults_and_config_section() -> None:
    cache = StreamingCache(similarity_threshold=0.95, max_cache_size=100)
    assert cache.options.similarity_threshold == 0.95 and cache.options.max_cache_size == 100
    assert cache.backend_kind == "memory"

    section = {"backend": "redis", "url": "redis://u:hunter2@127.0.0.1:6379/0", "ttl": 600}
    options = CacheOptions.model_validate(section)
    assert options.redis_url == section["url"]
    from_config = StreamingCache.from_options(options)
    assert from_config.backend_kind == "redis"
    assert "hunter2" not in repr(from_config)
    assert "***" in repr(from_config)
    assert CacheOptions(backend="redis://127.0.0.1:6379/1").redis_url == "redis://127.0.0.1:6379/1"


async def test_a_given_memory_instance_is_used() -> None:
    given = SimpleMemoryCache()
    cache = StreamingCache(backend=given, namespace="given")
    await cache.store(req("q"), stream("x"), route="r")
    stored = [v for k, v in given._cache.items() if k.startswith("given:e:")]
    assert len(stored) == 1 and isinstance(stored[0], str)  # JSON text, not an object
    assert '"chunks":["x"]' in stored[0]
    assert await cache.lookup(req("q"), route="r") is not None


def test_unsupported_backend_instance() -> None:
    class NotACache:
        pass

    with pytest.raises(ValidationError):
        StreamingCache(backend=NotACache())  # type: ignore[arg-type]

    from aiocache.base import BaseCache

    class OtherCache(BaseCache):
        NAME = "other"

    with pytest.raises(TypeError, match="unsupported aiocache backend"):
        StreamingCache(backend=OtherCache())


def test_hashing_vectorizer_is_deterministic_and_normalised() -> None:
    hv = HashingVectorizer(dim=64)
    a = hv.vector("Write a haiku about Python")
    assert a == hv.vector("write a haiku about python!")  # same normal form
    assert abs(sum(x * x for x in a) - 1.0) < 1e-9
    assert cosine(a, hv.vector("Please write a haiku about Python")) > 0.95
    assert cosine(a, hv.vector("Explain quantum tunnelling")) < 0.5
    assert hv.from_normalized("write\x1fa\x1fhaiku\x1fabout\x1fpython") == a


def test_vector_encoding_round_trips() -> None:
    vector = [0.5, -0.25, 1.0, 0.0]
    assert list(decode_vector(encode_vector(vector))) == vector


async def test_embeddings_api_vectorizer_calls_the_client() -> None:
    calls: list[dict[str, Any]] = []

    class Embeddings:
        async def create(self, **kwargs: Any) -> Any:
            calls.append(kwargs)
            data = [SimpleNamespace(index=i, embedding=[float(i), 1.0]) for i in range(2)]
            return SimpleNamespace(data=list(reversed(data)))

    vectorizer = EmbeddingsAPIVectorizer(SimpleNamespace(embeddings=Embeddings()), model="m")
    assert await vectorizer(["a", "b"]) == [[0.0, 1.0], [1.0, 1.0]]
    assert calls == [{"model": "m", "input": ["a", "b"]}]


def test_partition_is_stable_and_ignores_what_it_should() -> None:
    base = partition_key(req("q", temperature=0.2), route="r", scope=None)
    assert base == partition_key(req("other prompt", temperature=0.2), route="r", scope=None)
    assert base != partition_key(req("q", temperature=0.3), route="r", scope=None)
    assert base != partition_key(req("q", temperature=0.2), route="r", scope="t")
    assert base == partition_key(
        req("q", temperature=0.2, extra={"api_key": "sk-x", "trace_id": "1"}),
        route="r",
        scope=None,
        ignore_extra={"trace_id"},
    )
    assert len(base) == 32 and int(base, 16) >= 0
    # Bytes (an image) partition by content without being copied into the key.
    img_a = partition_key(req("q", extra={"image": b"\x89PNGa"}), route="r", scope=None)
    img_b = partition_key(req("q", extra={"image": b"\x89PNGb"}), route="r", scope=None)
    assert img_a != img_b
