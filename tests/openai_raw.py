"""OpenAI endpoints on 127.0.0.1 that answer with exactly what a test gives: chat
completions (the chunks, then ``[DONE]``) and the Responses API (the body's bytes as they
are, then the end of the body or a dropped connection).

For stream forms the fake server does not script (the legacy ``function_call`` delta, a
``reasoning`` field, every tool call at index 0; Responses events after the closing one,
named ``thread.*``, with a top-level ``error`` ...): the official SDK reads them over real
HTTP like any other stream.
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


@dataclass
class RawResponsesServer:
    """Answers every ``POST /v1/responses`` with :attr:`body` as an event stream, then ends
    the body (``drop``: aborts the connection instead)."""

    body: bytes
    drop: bool = False
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(self.body)
        if self.drop:
            assert request.transport is not None
            request.transport.abort()
            return response
        await response.write_eof()
        return response


@asynccontextmanager
async def raw_chat_server(chunks: list[dict[str, Any]]) -> AsyncIterator[RawChatServer]:
    """A :class:`RawChatServer` listening on a free port of 127.0.0.1."""
    server = RawChatServer(chunks)
    async with _serving("/v1/chat/completions", server.handle) as base_url:
        server.base_url = base_url
        yield server


@asynccontextmanager
async def raw_responses_server(
    body: bytes, *, drop: bool = False
) -> AsyncIterator[RawResponsesServer]:
    """A :class:`RawResponsesServer` listening on a free port of 127.0.0.1."""
    server = RawResponsesServer(body, drop)
    async with _serving("/v1/responses", server.handle) as base_url:
        server.base_url = base_url
        yield server


@asynccontextmanager
async def _serving(path: str, handler: Any) -> AsyncIterator[str]:
    """``handler`` answering ``POST path`` on a free port of 127.0.0.1; its ``/v1`` URL."""
    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()
