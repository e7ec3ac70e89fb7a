"""EncypherAI streaming support guide (seed 001), "FastAPI Streaming Endpoint": an endpoint
that streams an OpenAI answer with signed metadata embedded, chunk by chunk.

The code below is the seed's, with ``encypher.streaming.handlers`` spelt
``llm_dispatch.embedding``, indentation put back and the comma the page's metadata dict
lacks after ``data.get("request_id", str(time.time()))`` added. With ``LLM_DISPATCH_FAKE=1``
its OpenAI client talks to the built-in fake provider server on 127.0.0.1.

Run as a script, it serves the app on a free port of 127.0.0.1 (uvicorn), POSTs one request
to it, prints the streamed body, reads the metadata from it and exits.

    LLM_DISPATCH_FAKE=1 python examples/seed_encypher/fastapi_endpoint.py
"""
# ruff: noqa: E402, I001

import os

from llm_dispatch.offline import fake_mode_requested
from llm_dispatch.testing.background import shared_fake_server

if fake_mode_requested():  # not in the seed: point the SDK at the in-process fake server
    os.environ["OPENAI_BASE_URL"] = shared_fake_server().base_url_for("openai")

# fmt: off
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from openai import OpenAI
from llm_dispatch.embedding import StreamingHandler
import time
import asyncio
app = FastAPI()
@app.post("/generate-stream")
async def generate_stream(request: Request):
    # Parse request
    data = await request.json()
    prompt = data.get("prompt", "Write something interesting.")
    # Initialize OpenAI client
    client = OpenAI(api_key="your-api-key")
    # Create metadata
    metadata = {
        "model_id": "gpt-4",
        "timestamp": int(time.time()), # Unix/Epoch timestamp
        "request_id": data.get("request_id", str(time.time())),
        "version": "1.1.0"
    }
    # Initialize the streaming handler
    handler = StreamingHandler(
        metadata=metadata,
        target="whitespace",
        encode_first_chunk_only=True,
        hmac_secret_key="your-secret-key" # Optional: Only needed for HMAC verification
    )
    async def generate():
        # Create a streaming completion
        completion = client.chat.completions.create(
            model="gpt-4",
            messages=[
                {"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": prompt}
            ],
            stream=True
        )
        # Process each chunk
        for chunk in completion:
            if hasattr(chunk.choices[0].delta, 'content') and chunk.choices[0].delta.content:
                content = chunk.choices[0].delta.content
                # Process the chunk
                processed_chunk = handler.process_chunk(chunk=content)
                # Yield the processed chunk
                yield processed_chunk
                # Add a small delay to simulate real-time streaming
                await asyncio.sleep(0.01)
    return StreamingResponse(generate(), media_type="text/plain")

# fmt: on
# -- not in the seed: serve the app, call it once, read what came back ----------------------
import json
import socket
import threading
import urllib.request

import uvicorn

from llm_dispatch.embedding import UnicodeMetadata


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
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/generate-stream"
    body = json.dumps({"prompt": "Say something about provenance.", "request_id": "req-42"})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only
    with opener.open(request, timeout=30) as response:
        print(f"HTTP {response.status} {response.headers['content-type']}")
        text = response.read().decode()
    server.should_exit = True
    thread.join(10)
    print(f"Body: {UnicodeMetadata.strip_metadata(text)}")
    print(f"Metadata in the body: {UnicodeMetadata.extract_metadata(text)}")
    # The endpoint never ends its handler's stream, so the signature is not in the body.
    print(f"Verification: {UnicodeMetadata.verify(text, 'your-secret-key').status}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
