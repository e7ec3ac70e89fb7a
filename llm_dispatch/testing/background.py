"""The fake provider server on a thread of its own, for the offline switch.

An application may call ``asyncio.run`` many times, and a server that belongs to one event
loop dies with it. :func:`shared_fake_server` therefore runs one
:class:`~.server.FakeProviderServer` per process in a daemon thread with its own loop: started
on first use, listening on 127.0.0.1 only, stopped at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import threading

from .demo_script import demo_script
from .server import FakeProviderServer

__all__ = ["BackgroundFakeServer", "shared_fake_server"]

# Requests kept for inspection: the offline switch may serve a long-running process.
_KEEP_REQUESTS = 100


class BackgroundFakeServer:
    """A :class:`FakeProviderServer` served from a daemon thread."""

    def __init__(self, port: int = 0) -> None:
        self.server = FakeProviderServer(port=port, keep_requests=_KEEP_REQUESTS)
        self.server.default = demo_script
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="llm_dispatch-fake-server", daemon=True
        )

    def start(self, timeout: float = 10.0) -> BackgroundFakeServer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(self.server.start(), self._loop)
        started.result(timeout)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            return
        stopped = asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop)
        try:
            stopped.result(timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._loop.close()

    def base_url_for(self, kind: str) -> str:
        return self.server.base_url_for(kind)

    @property
    def url(self) -> str:
        return self.server.url


_shared: BackgroundFakeServer | None = None
_lock = threading.Lock()


def shared_fake_server() -> BackgroundFakeServer:
    """This process's background fake server, started on the first call."""
    global _shared
    with _lock:
        if _shared is None:
            server = BackgroundFakeServer().start()
            atexit.register(server.stop)
            _shared = server
        return _shared
