"""EncypherAI streaming support guide (seed 001), "Integration with LLM Providers — OpenAI":
the official OpenAI SDK streams; a StreamingHandler with a named HMAC key signs each delta.

The code below is the seed's, with ``encypher.streaming.handlers`` spelt
``llm_dispatch.embedding``, its indentation put back, and one comma added: the page's
metadata dict lacks the one after ``int(time.time())``, a SyntaxError. With
``LLM_DISPATCH_FAKE=1`` the SDK talks to the built-in fake provider server on 127.0.0.1
(real HTTP, OpenAI's wire format); otherwise it needs a real key for "your-api-key".

    LLM_DISPATCH_FAKE=1 python examples/seed_encypher/openai_stream_hmac.py
"""
# ruff: noqa: E402, I001

import os

from llm_dispatch.offline import fake_mode_requested
from llm_dispatch.testing.background import shared_fake_server

if fake_mode_requested():  # not in the seed: point the SDK at the in-process fake server
    os.environ["OPENAI_BASE_URL"] = shared_fake_server().base_url_for("openai")

# fmt: off
from openai import OpenAI
from llm_dispatch.embedding import StreamingHandler
import time
# Initialize OpenAI client
client = OpenAI(api_key="your-api-key")
# Create metadata
metadata = {
    "model_id": "gpt-4",
    "organization": "EncypherAI",
    "timestamp": int(time.time()), # Unix/Epoch timestamp
    "version": "1.1.0"
}
# Initialize the streaming handler
handler = StreamingHandler(
    metadata=metadata,
    target="whitespace",
    encode_first_chunk_only=True,
    hmac_secret_key="your-secret-key" # Optional: Only needed for HMAC verification
)
# Create a streaming completion
completion = client.chat.completions.create(
    model="gpt-4",
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Write a short paragraph about AI ethics."}
    ],
    stream=True
)
# Process each chunk
full_response = ""
for chunk in completion:
    if hasattr(chunk.choices[0].delta, 'content') and chunk.choices[0].delta.content:
        content = chunk.choices[0].delta.content
        # Process the chunk
        processed_chunk = handler.process_chunk(chunk=content)
        # Print and accumulate the processed chunk
        print(processed_chunk, end="", flush=True)
        full_response += processed_chunk
print("\n\nStreaming completed!")

# fmt: on
# -- not in the seed: read and verify what was printed ---------------------------------------
from llm_dispatch.embedding import UnicodeMetadata

print(f"Extracted metadata: {UnicodeMetadata.extract_metadata(full_response)}")
# The sample never ends the stream, so the signature (written at the end) is not there yet.
print(f"As printed: {UnicodeMetadata.verify(full_response, 'your-secret-key').status}")
full_response += handler.finalize()["tail"]
valid, verified = UnicodeMetadata.verify_metadata(full_response, hmac_secret_key="your-secret-key")
print(f"With finalize()['tail'] appended: valid={valid}, metadata={verified}")
