"""A web page that shows the answer as it streams: FastAPI, Server-Sent Events, EventSource.

    pip install -e ".[web]"
    LLM_DISPATCH_FAKE=1 python examples/web_app.py --port 8000   # then open http://127.0.0.1:8000/

``GET /ask?q=...`` streams the answer of ``q`` as Server-Sent Events (``sse_events``):
``text`` events, then ``done`` (or ``error``); ``&metadata=1`` streams chunk dicts as
``chunk`` events instead. ``GET /`` is the page, whose script reads them with the
browser's ``EventSource``. The server listens on 127.0.0.1 only.

With no arguments (or ``--once``) the app starts on a free port, reads its own page and
one answer the way a client would, prints them and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from llm_dispatch import Dispatcher, llm_stream, llm_stream_with_metadata
from llm_dispatch.web import SSE_HEADERS, SSE_MEDIA_TYPE, read_events, sse_events

HOST = "127.0.0.1"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>llm_dispatch: streaming answer</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; }
  input[type=text] { width: 30rem; }
  #answer { white-space: pre-wrap; border-left: 3px solid #999; padding-left: 1rem; }
  #reasoning { white-space: pre-wrap; color: #777; font-style: italic; }
  #status { color: #555; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>Ask</h1>
<form id="ask">
  <input id="question" type="text" name="q" value="How do rainbows form?">
  <label><input id="metadata" type="checkbox"> chunk dicts</label>
  <button id="send" type="submit">Ask</button>
</form>
<p id="reasoning"></p>
<p id="answer"></p>
<p id="status" data-state="idle"></p>
<script>
const $ = (id) => document.getElementById(id);
let source = null;

function show(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

function ask(event) {
  event.preventDefault();
  if (source) source.close();
  $("answer").textContent = "";
  $("reasoning").textContent = "";
  show("streaming", "streaming…");
  const metadata = $("metadata").checked ? "&metadata=1" : "";
  source = new EventSource("/ask?q=" + encodeURIComponent($("question").value) + metadata);
  source.addEventListener("text", (e) => { $("answer").textContent += e.data; });
  source.addEventListener("chunk", (e) => {
    const item = JSON.parse(e.data);
    if (item.kind === "reasoning") $("reasoning").textContent += item.reasoning;
    else $("answer").textContent += item.chunk;
  });
  source.addEventListener("done", (e) => {
    const done = JSON.parse(e.data);
    const tokens = done.usage ? done.usage.total_tokens + " tokens" : "no usage";
    show("done", `done (${done.finish_reason}) by ${done.provider}/${done.model}, ${tokens}`);
    source.close();  // or EventSource connects again and asks again
  });
  source.addEventListener("error", (e) => {
    if (e.data) {  // the server's error event
      const error = JSON.parse(e.data);
      show("error", `failed (${error.kind || error.error}): ${error.message}`);
    } else {       // the connection itself failed
      show("error", "the connection failed");
    }
    source.close();
  });
}
$("ask").addEventListener("submit", ask);
</script>
</body>
</html>
"""


def create_app(dispatcher: Dispatcher | None = None) -> FastAPI:
    """The app; its calls go through ``dispatcher`` (None: the configured global one)."""

    @llm_stream(dispatcher=dispatcher)
    async def answer(prompt: str) -> Any:
        yield "offline stand-in"

    @llm_stream_with_metadata(dispatcher=dispatcher)
    async def answer_with_metadata(prompt: str) -> Any:
        yield "offline stand-in"

    app = FastAPI(title="llm_dispatch web example")

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE

    @app.get("/ask")
    async def ask(request: Request, q: str, metadata: bool = False) -> Response:
        if "last-event-id" in request.headers:
            # EventSource reconnects after a dropped connection and would ask again:
            # 204 tells it to stop.
            return Response(status_code=204)
        stream = answer_with_metadata(q) if metadata else answer(q)
        return StreamingResponse(sse_events(stream), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)

    return app


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int = 0) -> AsyncIterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 (``port`` 0: a free one) until the block
    ends; yields its base URL."""
    config = uvicorn.Config(
        app, host=HOST, port=port, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # it failed to start: raise why
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{HOST}:{bound}"
    finally:
        server.should_exit = True
        await task


async def once(port: int) -> int:
    """Serve, read the page and one answer as a client, print them."""
    question = "How do rainbows form?"
    timeout = aiohttp.ClientTimeout(total=30)
    async with serving(create_app(), port) as url, aiohttp.ClientSession(timeout=timeout) as http:
        async with http.get(url + "/") as page:
            html = await page.text()
        uses = "uses EventSource" if "new EventSource(" in html else "no EventSource"
        print(f"GET / -> {page.status}, {len(html)} characters, {uses}")
        print(f"GET /ask?q={quote(question)}")
        async with http.get(url + "/ask", params={"q": question}) as response:
            print(f"content-type: {response.headers['content-type']}")
            async for event in read_events(response.content.iter_any()):
                if event.event == "text":
                    print(event.data, end="", flush=True)
                else:
                    print(f"\n[{event.event} #{event.id}] {event.data}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, help="serve on this port of 127.0.0.1 until stopped")
    parser.add_argument("--once", action="store_true", help="answer one question and exit")
    args = parser.parse_args(argv)
    if args.once or args.port is None:
        return asyncio.run(once(args.port or 0))
    print(f"serving http://{HOST}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    uvicorn.run(create_app(), host=HOST, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
