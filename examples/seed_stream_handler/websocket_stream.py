"""LangChain-style StreamHandler doc (seed 002), "WebSocket Streaming": an async ``on_token``
that sends each token over a WebSocket as it arrives.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``; where it says "Use with async LLM..." one line (marked) streams
the answer through ``llm_dispatch.Client(callbacks=[handler])``, which awaits an async
``on_token``. With ``LLM_DISPATCH_FAKE=1`` the answer comes from the built-in fake provider
server on 127.0.0.1.

Run as a script, it mounts the seed's function on a FastAPI WebSocket route, serves it on a
free port of 127.0.0.1 (uvicorn), connects once with a ``websockets`` client, prints the
messages that came back and exits.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/websocket_stream.py
"""
# ruff: noqa: E402, I001

from llm_dispatch import Client

# fmt: off
from fastapi import WebSocket
from llm_dispatch.streaming import StreamHandler

async def websocket_stream(websocket: WebSocket, query: str):
    await websocket.accept()

    async def on_token(token: str):
        await websocket.send_text(token)

    handler = StreamHandler(on_token=on_token)
    # Use with async LLM...
    await Client(callbacks=[handler]).stream_with_usage(query)  # not in the seed

    await websocket.close()

# fmt: on
# -- not in the seed: a route for it, served once, and a client ------------------------------
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import connect

app = FastAPI()


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket_stream(websocket, websocket.query_params.get("query", "Hello"))


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
    url = f"ws://127.0.0.1:{sock.getsockname()[1]}/ws?query=Why+WebSockets"
    messages: list[str] = []
    with connect(url, open_timeout=10, proxy=None) as websocket:
        try:
            while True:
                message = websocket.recv(timeout=30)
                assert isinstance(message, str)
                messages.append(message)
        except ConnectionClosedOK as closed:
            print(f"Closed by the server (code {closed.rcvd.code if closed.rcvd else None})")
    server.should_exit = True
    thread.join(10)
    print(f"First messages: {messages[:3]}")
    print(f"{len(messages)} messages: {''.join(messages)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
