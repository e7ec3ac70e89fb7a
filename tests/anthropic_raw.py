"""A messages endpoint on 127.0.0.1 that answers with exactly the bytes a test gives.

For stream forms the fake server does not script (redacted thinking, server-tool blocks,
events without a name, error events of any data, nulls where the API may send them): the
official SDK reads them over real HTTP like any other stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class RawMessagesServer:
    """Answers every ``POST /v1/messages`` with :attr:`pieces`, each written on its own,
    then ends the body; records each request body."""

    pieces: list[bytes]
    bodies: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.bodies.append(await request.json())
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for piece in self.pieces:
            await response.write(piece)
        await response.write_eof()
        return response


def event(payload: Any, name: str | None = "", *, data: str | None = None) -> bytes:
    """One SSE event: ``payload`` as JSON (or ``data`` as it is), named ``name`` (by default
    the payload's ``type``; None: no ``event:`` line)."""
    if name == "":
        name = payload["type"]
    head = f"event: {name}\n" if name is not None else ""
    text = json.dumps(payload) if data is None else data
    return f"{head}data: {text}\n\n".encode()


@asynccontextmanager
async def raw_messages_server(pieces: list[bytes]) -> AsyncIterator[RawMessagesServer]:
    """A :class:`RawMessagesServer` listening on a free port of 127.0.0.1."""
    server = RawMessagesServer(pieces)
    app = web.Application()
    app.router.add_post("/v1/messages", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: Any = runner.addresses[0][1]
    server.base_url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()
