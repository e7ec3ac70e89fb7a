"""Helpers and fixtures of the cache tests (imported explicitly by tests/test_cache_*.py).

``make_cache`` builds caches on the backend of the ``backend`` fixture, which runs each test
on the in-memory backend and on the real Redis server at 127.0.0.1:6379 (marked ``redis``).
Every Redis cache gets a namespace of its own and is cleared after the test.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from llm_dispatch.cache import CachedStream, StreamingCache
from llm_dispatch.request import Message, Request

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_is_up(host: str = "127.0.0.1", port: int = 6379) -> bool:
    """True when something answers PING on the Redis port."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def unique_namespace() -> str:
    return f"test-cache-{uuid.uuid4().hex[:12]}"


def req(prompt: str, **fields: Any) -> Request:
    """A one-turn request (``history=[(role, content), ...]`` prepends turns)."""
    history = fields.pop("history", ())
    messages = tuple(Message(role=r, content=c) for r, c in history)
    return Request(messages=(*messages, Message(role="user", content=prompt)), **fields)


def stream(*chunks: str, **fields: Any) -> CachedStream:
    """A complete stream as the dispatcher would hand it to ``store``."""
    values: dict[str, Any] = {
        "chunks": chunks or ("Hello", ", ", "world"),
        "provider": "openai",
        "model": "gpt-4o-mini",
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        "finish_reason": "stop",
    }
    values.update(fields)
    return CachedStream(**values)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend spec a test runs on: ``"memory"`` or the Redis URL."""
    if request.param == "redis":
        if not redis_is_up():
            pytest.skip("no Redis server on 127.0.0.1:6379")
        return REDIS_URL
    return "memory"


@pytest.fixture
async def make_cache(backend: str) -> AsyncIterator[Callable[..., StreamingCache]]:
    """Factory of caches on ``backend``, each in a fresh namespace, cleared afterwards."""
    made: list[StreamingCache] = []

    def factory(**options: Any) -> StreamingCache:
        options.setdefault("namespace", unique_namespace())
        cache = StreamingCache(backend=options.pop("backend", backend), **options)
        made.append(cache)
        return cache

    yield factory
    for cache in made:
        await cache.clear()
        await cache.aclose()
