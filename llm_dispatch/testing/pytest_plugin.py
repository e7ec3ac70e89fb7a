"""A pytest fixture for the fake provider server, for your own test suites.

Enable it in a ``conftest.py``::

    pytest_plugins = ["llm_dispatch.testing.pytest_plugin"]

then take ``fake_provider_server`` in an async test (pytest-asyncio): a fresh server on
127.0.0.1 per test, stopped afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .server import FakeProviderServer

__all__ = ["fake_provider_server"]


@pytest.fixture
async def fake_provider_server() -> AsyncIterator[FakeProviderServer]:
    """A running :class:`FakeProviderServer` (scripts, recorded requests, base URLs)."""
    async with FakeProviderServer() as server:
        yield server
