"""The semantic extra: WordLlamaVectorizer, the vector index, its Redis mirror (the
lookups: ``test_cache_semantic_lookup.py``)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("wordllama")

import numpy as np
import redis.asyncio as aioredis

import llm_dispatch
from llm_dispatch.cache import StreamingCache, WordLlamaVectorizer
from llm_dispatch.cache import semantic as semantic_module
from llm_dispatch.cache.redis_store import RedisStore
from llm_dispatch.cache.store import IndexRow, now_ms
from llm_dispatch.cache.vector_index import EXACT_LIMIT, VectorIndex

try:
    from cache_fixtures import (
        REDIS_URL,
        backend,
        make_cache,
        redis_is_up,
        req,
        stream,
        unique_namespace,
    )
except ImportError:  # tests/ imported as a package
    from tests.cache_fixtures import (  # noqa: F401
        REDIS_URL,
        backend,
        make_cache,
        redis_is_up,
        req,
        stream,
        unique_namespace,
    )


@pytest.fixture(scope="module")
def vectorizer() -> WordLlamaVectorizer:
    vectorizer = WordLlamaVectorizer()
    vectorizer.load()
    return vectorizer


def cos(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# -- the vectorizer ----------------------------------------------------------------------


async def test_vectors_are_unit_256_floats_and_rank_paraphrases_first(
    vectorizer: WordLlamaVectorizer,
) -> None:
    capital, paraphrase, spain, sort = await vectorizer(
        [
            "What is the capital of France?",
            "Tell me the capital city of France",
            "What is the capital of Spain?",
            "How do I sort a list in Python?",
        ]
    )
    for vector in (capital, paraphrase, spain, sort):
        assert len(vector) == 256
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
    assert cos(capital, paraphrase) > cos(capital, spain) > cos(capital, sort)
    assert cos(capital, paraphrase) > 0.8
    assert cos(capital, sort) < 0.5
    # Deterministic: the same prompt gives the same vector, alone or in a batch.
    (again,) = await vectorizer(["What is the capital of France?"])
    assert np.allclose(again, capital, atol=1e-6)


async def test_a_bag_of_words_scores_swapped_words_alike(
    vectorizer: WordLlamaVectorizer,
) -> None:
    """What the guard is for: order and prefixes barely move the vectors."""
    f2c, c2f = await vectorizer(
        ["Convert 100 Fahrenheit to Celsius", "Convert 100 Celsius to Fahrenheit"]
    )
    assert cos(f2c, c2f) > 0.99


async def test_long_batches_go_to_a_thread_with_the_same_vectors(
    vectorizer: WordLlamaVectorizer,
) -> None:
    texts = [f"Explain item {i} of the list in detail, please. " * 20 for i in range(8)]
    assert sum(map(len, texts)) > semantic_module.INLINE_CHARS
    threaded = await vectorizer(texts)
    inline = vectorizer.embed(texts)
    assert np.allclose(threaded, inline, atol=1e-6)


async def test_empty_prompt_is_the_null_vector_and_memo_hands_out_copies(
    vectorizer: WordLlamaVectorizer,
) -> None:
    (empty,) = await vectorizer([""])
    assert not any(empty)
    (first,) = await vectorizer(["Summarise this memo"])
    first[0] = 42.0
    (second,) = await vectorizer(["Summarise this memo"])
    assert second[0] != 42.0
    assert await vectorizer([]) == []


def test_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = semantic_module.importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "wordllama" else real(name, *args)

    monkeypatch.setattr(semantic_module.importlib.util, "find_spec", find_spec)
    with pytest.raises(ImportError, match=r"pip install 'llm-dispatch\[semantic\]'"):
        WordLlamaVectorizer()


def test_loading_touches_no_network_writes_nothing_and_prints_nothing(tmp_path: Path) -> None:
    """In a fresh process: sockets refuse, HOME is empty; the model loads and embeds, the
    root logger is left as it was, nothing appears under ~/.cache."""
    code = (
        "import logging, socket, sys\n"
        "attempts = []\n"
        "def refuse(*args, **kwargs):\n"
        "    attempts.append(args)\n"
        "    raise OSError('network used')\n"
        "socket.socket.connect = refuse\n"
        "socket.socket.connect_ex = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from llm_dispatch.cache import WordLlamaVectorizer\n"
        "v = WordLlamaVectorizer()\n"
        "v.load()\n"
        "vectors = v.embed(['What is the capital of France?'])\n"
        "root = logging.getLogger()\n"
        "state = (len(attempts), len(root.handlers), root.level, vectors.shape)\n"
        "sys.stderr.write(repr(state))\n"
    )
    root = Path(llm_dispatch.__file__).resolve().parents[1]
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(PYTHONPATH=str(root), HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=tmp_path,
        env=env,
    )
    assert out.stdout == ""
    assert out.stderr == repr((0, 0, 30, (1, 256)))  # no attempt, root untouched (WARNING)
    assert list(home.iterdir()) == []


# -- the index ---------------------------------------------------------------------------


def row(entry_id: str, expires_at_ms: int | None = None) -> IndexRow:
    return IndexRow(entry_id, entry_id, "test", expires_at_ms=expires_at_ms)


def unit_rows(n: int, dim: int = 64, offset: int = 0) -> np.ndarray:
    rng = np.random.default_rng(n + offset)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_index_adds_replaces_removes_and_keeps_partitions_apart() -> None:
    index = VectorIndex()
    vectors = unit_rows(50)
    for i, vector in enumerate(vectors):
        index.add("p1" if i % 2 else "p2", row(f"e{i}"), vector)
    assert len(index) == 50 and index.partitions == 2
    found = index.search("p1", vectors[7], k=3, min_score=0.5, now_ms=now_ms())
    assert [n.row.entry_id for n in found][:1] == ["e7"]
    assert found[0].score == pytest.approx(1.0, abs=1e-5)
    assert found[0].row.vector is not None and np.allclose(found[0].row.vector, vectors[7])
    # Another partition never answers, however close.
    assert all(
        n.row.entry_id != "e6" for n in index.search("p1", vectors[6], k=50, min_score=-1, now_ms=0)
    )
    # Removal moves the last row into the hole: every other row still answers for itself.
    for i in range(1, 50, 4):
        assert index.remove(f"e{i}")
    assert not index.remove("e1")
    for i in range(50):
        hits = index.search("p1" if i % 2 else "p2", vectors[i], k=1, min_score=0.99, now_ms=0)
        assert [n.row.entry_id for n in hits] == ([] if i % 4 == 1 else [f"e{i}"])
    # Replacing moves a row to its new vector (and partition).
    index.add("p3", row("e3"), vectors[0])
    assert index.search("p1", vectors[3], k=1, min_score=0.99, now_ms=0) == []
    assert [
        n.row.entry_id for n in index.search("p3", vectors[0], k=1, min_score=0.99, now_ms=0)
    ] == ["e3"]
    # Null vectors and vectors of another size are not indexed.
    assert not index.add("p1", row("z"), np.zeros(64))
    assert not index.add("p1", row("w"), np.ones(8))
    index.clear()
    assert len(index) == 0 and index.partitions == 0


def test_index_skips_expired_rows_and_applies_the_threshold() -> None:
    index = VectorIndex()
    vectors = unit_rows(3)
    index.add("p", row("old", expires_at_ms=1_000), vectors[0])
    index.add("p", row("new", expires_at_ms=None), vectors[0] * 0.9 + vectors[1] * 0.1)
    found = index.search("p", vectors[0], k=5, min_score=0.5, now_ms=2_000)
    assert [n.row.entry_id for n in found] == ["new"]
    assert index.search("p", vectors[2], k=5, min_score=0.9, now_ms=0) == []


def test_a_large_partition_is_searched_through_the_codes() -> None:
    """Beyond EXACT_LIMIT rows the Hamming shortlist must still find near neighbours."""
    n = EXACT_LIMIT + 4_000
    vectors = unit_rows(n, dim=256)
    index = VectorIndex()
    for i, vector in enumerate(vectors):
        index.add("p", row(f"e{i}"), vector)
    rng = np.random.default_rng(7)
    for i in rng.choice(n, 40, replace=False):
        noisy = vectors[i] + 0.05 * rng.standard_normal(256).astype(np.float32)
        found = index.search("p", noisy, k=1, min_score=0.7, now_ms=0)
        assert [h.row.entry_id for h in found] == [f"e{i}"]


# -- the Redis mirror --------------------------------------------------------------------


@pytest.fixture
async def raw() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


def mirror_ids(cache: StreamingCache) -> set[str]:
    store = cache._ensure_store()
    assert isinstance(store, RedisStore) and store.vectors is not None
    return set(store.vectors.index._where)


@pytest.mark.redis
@pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379")
async def test_two_caches_mirror_adds_evictions_invalidation_and_clear(
    vectorizer: WordLlamaVectorizer, raw: aioredis.Redis
) -> None:
    namespace = unique_namespace()

    def make(**options: Any) -> StreamingCache:
        return StreamingCache(
            backend=REDIS_URL,
            namespace=namespace,
            vectorizer=vectorizer,
            similarity_threshold=0.8,
            **options,
        )

    a, b = make(max_cache_size=3), make(max_cache_size=3)
    try:
        await a.store(req("Write a haiku about Python"), stream("py"), route="r")
        hit = await b.lookup(req("Please write the haiku about Python"), route="r")
        assert hit is not None and hit.entry.chunks == ("py",)
        ids = mirror_ids(b)
        assert len(ids) == 1
        # Evictions by either instance reach the other's mirror.
        for prompt in ("Name a red fruit", "Name a green fruit", "Name a blue fruit"):
            await b.store(req(prompt), stream(), route="r")
        await a.lookup(req("Please name a red fruit"), route="r")
        assert len(mirror_ids(a)) == 3 and ids.isdisjoint(mirror_ids(a))
        await b.lookup(req("Please name a red fruit"), route="r")  # b syncs on a lookup
        assert mirror_ids(a) == mirror_ids(b)
        assert await raw.hlen(f"{namespace}:vx") == 3
        # Invalidation is logged.
        assert await a.invalidate(req("Name a green fruit"), route="r") == 1
        await b.lookup(req("Please name a green fruit"), route="r")
        assert len(mirror_ids(b)) == 2 and await raw.hlen(f"{namespace}:vx") == 2
        # A new process (a third instance) loads the rows whole, then follows the log.
        c = make(max_cache_size=3)
        assert await c.lookup(req("Please name a blue fruit"), route="r") is not None
        assert mirror_ids(c) == mirror_ids(b)
        # Clearing the namespace resets every mirror.
        await a.clear()
        assert await b.lookup(req("Please name a blue fruit"), route="r") is None
        assert mirror_ids(b) == set()
        await c.aclose()
    finally:
        await a.clear()
        await a.aclose()
        await b.aclose()


@pytest.mark.redis
@pytest.mark.skipif(not redis_is_up(), reason="no Redis server on 127.0.0.1:6379")
async def test_mirror_drops_expired_rows_and_reloads_after_a_gap(
    vectorizer: WordLlamaVectorizer, raw: aioredis.Redis
) -> None:
    namespace = unique_namespace()
    a = StreamingCache(
        backend=REDIS_URL,
        namespace=namespace,
        vectorizer=vectorizer,
        ttl=0.3,
        similarity_threshold=0.8,
    )
    b = StreamingCache(
        backend=REDIS_URL,
        namespace=namespace,
        vectorizer=vectorizer,
        ttl=0.3,
        similarity_threshold=0.8,
    )
    try:
        await a.store(req("Name a red fruit"), stream(), route="r")
        assert await b.lookup(req("Please name a red fruit"), route="r") is not None
        await asyncio.sleep(0.35)
        # Expired: never a candidate, even before a store sweeps it.
        assert await b.lookup(req("Please name a red fruit"), route="r") is None
        await a.store(req("Name a yellow fruit"), stream(), route="r")  # sweeps the red one
        await b.lookup(req("Please name a yellow fruit"), route="r")
        assert len(mirror_ids(b)) == 1
        store = b._ensure_store()
        assert isinstance(store, RedisStore) and store.vectors is not None
        loads = store.vectors.loads
        # Changes trimmed away before b read them: b reloads the rows whole.
        await a.store(req("Name a purple fruit"), stream(), route="r")
        await raw.xtrim(f"{namespace}:vlog", maxlen=0)
        await a.store(req("Name an orange fruit"), stream(), route="r")
        hit = await b.lookup(req("Please name a purple fruit"), route="r")
        assert hit is not None and store.vectors.loads == loads + 1
        assert len(mirror_ids(b)) == 3
        record = await raw.xrevrange(f"{namespace}:vlog", count=1)
        orange = b.key(req("Name an orange fruit"), route="r")
        assert json.loads(record[0][1][b"r"])["n"] == orange.normalized
    finally:
        await a.clear()
        await a.aclose()
        await b.aclose()
