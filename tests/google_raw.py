"""A Gemini ``streamGenerateContent`` endpoint on 127.0.0.1 that answers with exactly the
body a test gives.

For stream forms the fake server does not script (a blocked prompt, lowercase enum values,
URL-safe thought signatures, odd error chunks, SSE lines google-genai reads its own way):
the official SDK reads them over real HTTP like any other stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def sse_body(*chunks: Any) -> bytes:
    """Each chunk as one ``data:`` event, framed as Gemini frames them."""
    return b"".join(f"data: {json.dumps(chunk)}\r\n\r\n".encode() for chunk in chunks)


def text_chunk(text: str, finish: str | None = None, **fields: Any) -> dict[str, Any]:
    """A chunk of one text part (and a finish reason), plus any top-level ``fields``."""
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], **fields}


@dataclass
class RawGeminiServer:
    """Answers every Gemini streaming request with :attr:`body` (SSE) and records each
    request's path, headers and JSON body."""

    body: bytes
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            {
                "path": request.path_qs,
                "headers": {k.lower(): v for k, v in request.headers.items()},
                "body": await request.json(),
            }
        )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(self.body)
        await response.write_eof()
        return response


@asynccontextmanager
async def raw_gemini_server(body: bytes) -> AsyncIterator[RawGeminiServer]:
    """A :class:`RawGeminiServer` listening on a free port of 127.0.0.1."""
    server = RawGeminiServer(body)
    app = web.Application()
    app.router.add_post("/{version}/models/{model_action}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base_url = f"http://127.0.0.1:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()
