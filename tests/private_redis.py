"""A redis-server process of a test's own, on a free loopback port, that the test may pause
(``CLIENT PAUSE``) or kill: the ``private_redis`` fixture (a plugin of conftest.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis


class PrivateRedis:
    """One redis-server process on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None
        self.process = await asyncio.create_subprocess_exec(
            *(binary, "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        client = aioredis.Redis.from_url(self.url)
        try:
            for _ in range(200):
                try:
                    if await client.ping():
                        return
                except (OSError, aioredis.ConnectionError):
                    await asyncio.sleep(0.025)
            raise RuntimeError("the private redis-server did not start")
        finally:
            await client.aclose()

    async def pause(self, milliseconds: int) -> None:
        """``CLIENT PAUSE ms ALL``: every client's commands wait until it ends."""
        client = aioredis.Redis.from_url(self.url)
        try:
            await client.execute_command("CLIENT", "PAUSE", str(milliseconds), "ALL")
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await asyncio.wait_for(self.process.wait(), 10)


@pytest.fixture
async def private_redis() -> AsyncIterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        if os.environ.get("LLM_DISPATCH_REQUIRE_REDIS"):
            pytest.fail("LLM_DISPATCH_REQUIRE_REDIS is set but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
