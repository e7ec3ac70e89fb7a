"""LangChain-style StreamHandler doc (seed 002), "Web Application Streaming (FastAPI)": an
endpoint that collects an answer's tokens through a StreamHandler and sends them as
Server-Sent Events.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. LangChain is not a dependency, so its three lines (the
``langchain_openai`` import, ``ChatOpenAI(...)``, ``await llm.ainvoke(query)``) are the same
call through ``llm_dispatch.Client`` (marked below). As in the seed, the tokens are sent
once the answer is complete. With ``LLM_DISPATCH_FAKE=1`` the answer comes from the
built-in fake provider server on 127.0.0.1.

Run as a script, it serves the app on a free port of 127.0.0.1 (uvicorn), POSTs one query,
prints the events that came back and exits.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/fastapi_sse.py
"""
# ruff: noqa: E402, I001

from llm_dispatch import Client

# fmt: off
from llm_dispatch.streaming import StreamHandler
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
import asyncio

app = FastAPI()

@app.post("/chat/stream")
async def stream_chat(query: str):
    async def token_generator():
        tokens = []

        def on_token(token: str):
            tokens.append(token)

        handler = StreamHandler(on_token=on_token)

        # Use async LLM with handler
        llm = Client(callbacks=[handler])  # seed: ChatOpenAI(streaming=True, callbacks=[handler])
        await llm.stream_with_usage(query)  # seed: await llm.ainvoke(query)

        # Yield tokens as they arrive
        for token in tokens:
            yield f"data: {token}\n\n"
            await asyncio.sleep(0)  # Allow other tasks to run

    return StreamingResponse(
        token_generator(),
        media_type="text/event-stream"
    )

# fmt: on
# -- not in the seed: serve the app, call it once, print the events -------------------------
import socket
import threading
import time
import urllib.parse
import urllib.request

import uvicorn


def main() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("the app did not start")
        time.sleep(0.01)
    query = urllib.parse.urlencode({"query": "What is streaming?"})
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/chat/stream?{query}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only
    events: list[str] = []
    with opener.open(urllib.request.Request(url, method="POST"), timeout=30) as response:
        print(f"HTTP {response.status} {response.headers['content-type']}")
        for line in response:
            if line.startswith(b"data: "):
                events.append(line.decode()[len("data: ") : -1])
    server.should_exit = True
    thread.join(10)
    print(f"First events: {events[:3]}")
    print(f"{len(events)} events: {''.join(events)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
