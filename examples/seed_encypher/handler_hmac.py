"""EncypherAI streaming support guide (seed 001), "Using the StreamingHandler": three chunks
signed with a named HMAC key, then ``UnicodeMetadata.extract_metadata`` and
``verify_metadata`` with the same key.

The code below is the seed's, with ``encypher.streaming.handlers`` /
``encypher.core.unicode_metadata`` spelt ``llm_dispatch.embedding`` (and the indentation the
page lost put back). As written, the sample never marks the end of its stream, so the
signature — which covers the whole text and is written at its end — is missing: extraction
works, verification reports "Failed" (status ``truncated``). Marking the end
(``is_final=True`` on the last chunk, or appending ``finalize()["tail"]``) makes it verify,
as the lines after the sample show.

    python examples/seed_encypher/handler_hmac.py
"""
# ruff: noqa: E402, I001

# fmt: off
from llm_dispatch.embedding import StreamingHandler
import time
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
    target="whitespace", # Where to embed metadata
    encode_first_chunk_only=True,
    hmac_secret_key="your-secret-key" # Optional: Only needed for HMAC verification
)
# Process chunks as they arrive
chunks = [
    "This is the first chunk of text. ",
    "This is the second chunk. ",
    "And this is the final chunk."
]
processed_chunks = []
for chunk in chunks:
    # Process the chunk
    processed_chunk = handler.process_chunk(chunk=chunk)
    processed_chunks.append(processed_chunk)
    print(f"Processed chunk: {processed_chunk}")
# Combine all processed chunks
full_text = "".join(processed_chunks)
# Extract and verify the metadata
from llm_dispatch.embedding import UnicodeMetadata
# Extract metadata without verification
extracted_metadata = UnicodeMetadata.extract_metadata(full_text)
print(f"Extracted metadata: {extracted_metadata}")
# For verification with HMAC
is_valid, verified_metadata = UnicodeMetadata.verify_metadata(
    full_text,
    hmac_secret_key="your-secret-key" # Use the same secret key as above
)
print(f"Verification result: {'✅ Verified' if is_valid else '❌ Failed'}")
print(f"Verified metadata: {verified_metadata}")
# Note: StreamingHandler uses UnicodeMetadata for target-based embedding
# which enables precise metadata placement in streaming content

# fmt: on
# -- not in the seed: why it failed, and the end marked --------------------------------------
result = UnicodeMetadata.verify(full_text, hmac_secret_key="your-secret-key")
print(f"Status: {result.status} ({result.message})")
full_text += handler.finalize()["tail"]
is_valid, verified_metadata = UnicodeMetadata.verify_metadata(
    full_text, hmac_secret_key="your-secret-key"
)
print(f"With finalize()['tail'] appended: {'✅ Verified' if is_valid else '❌ Failed'}")
print(f"Verified metadata: {verified_metadata}")
wrong, _ = UnicodeMetadata.verify_metadata(full_text, hmac_secret_key="another-key")
print(f"With another key: {'✅ Verified' if wrong else '❌ Failed'}")
