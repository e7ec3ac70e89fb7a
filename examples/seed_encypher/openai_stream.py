"""EncypherAI streaming handlers doc (seed 000), "Streaming with OpenAI": the official
OpenAI SDK streams, a StreamingHandler signs each delta as it arrives.

The code below is the seed's, with ``encypher.streaming`` spelt ``llm_dispatch.embedding``.
With ``LLM_DISPATCH_FAKE=1`` the SDK talks to the built-in fake provider server on
127.0.0.1 (real HTTP, OpenAI's wire format); otherwise it needs a real key where the sample
says "your-api-key".

    LLM_DISPATCH_FAKE=1 python examples/seed_encypher/openai_stream.py
"""
# ruff: noqa: E402, I001, UP017

import os

from llm_dispatch.offline import fake_mode_requested
from llm_dispatch.testing.background import shared_fake_server

if fake_mode_requested():  # not in the seed: point the SDK at the in-process fake server
    os.environ["OPENAI_BASE_URL"] = shared_fake_server().base_url_for("openai")

# fmt: off
import openai
from llm_dispatch.embedding import StreamingHandler
from datetime import datetime, timezone

# Initialize OpenAI client
client = openai.OpenAI(api_key="your-api-key")

# Create metadata
metadata = {
    "model": "gpt-4",
    "organization": "MyCompany",
    "timestamp": datetime.now(timezone.utc).isoformat(),
    "version": "1.0.0"
}

# Initialize the streaming handler
handler = StreamingHandler(metadata=metadata)

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

# Finalize the stream
handler.finalize()

print("\n\nStreaming completed!")

# fmt: on
# -- not in the seed: what the signed answer holds -------------------------------------------
from llm_dispatch.embedding import UnicodeMetadata

print(f"Extracted metadata: {UnicodeMetadata.extract_metadata(full_response)}")
# The sample drops finalize()'s summary, whose "tail" (the trailer with the signature)
# belongs at the end of the text; without it the text verifies as truncated.
key = handler.hmac_secret_key  # no key was named: this process's random key
print(f"As printed: {UnicodeMetadata.verify(full_response, hmac_secret_key=key).status}")
signed = full_response + handler.finalize()["tail"]
valid, verified = UnicodeMetadata.verify_metadata(signed, hmac_secret_key=key)
print(f"With the tail appended: valid={valid}, metadata={verified}")
