"""A chat-completions endpoint on 127.0.0.1 that answers with exactly the chunks a test gives.

For stream forms the fake server does not script (the legacy ``function_call`` delta, a
``reasoning`` field, every tool call at index 0): the official SDK reads them over real HTTP
like any other stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class RawChatServer:
    """Answers every ``POST /v1/chat/completions`` with :attr:`chunks` as SSE, then
    ``[DONE]``; records each request body."""

    chunks: list[dict[str, Any]]
    bodies: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.bodies.append(await request.json())
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in self.chunks:
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    """A chat-completion chunk with one choice."""
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "raw-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@asynccontextmanager
async def raw_chat_server(chunks: list[dict[str, Any]]) -> AsyncIterator[RawChatServer]:
    """A :class:`RawChatServer` listening on a free port of 127.0.0.1."""
    server = RawChatServer(chunks)
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()
