"""EncypherAI streaming handlers doc (seed 000), "Usage Example": a StreamingHandler signs
three chunks; MetadataEncoder reads and verifies the joined text.

The code below is the seed's, with ``encypher.streaming`` / ``encypher.core`` spelt
``llm_dispatch.embedding``. No key is named, so handler and encoder share this process's
random key.

    python examples/seed_encypher/handler_usage.py
"""
# ruff: noqa: E402, I001, UP017
# fmt: off

from llm_dispatch.embedding import StreamingHandler
from datetime import datetime, timezone

# Create metadata
metadata = {
    "model": "gpt-4",
    "organization": "MyCompany",
    "timestamp": datetime.now(timezone.utc).isoformat(),
    "version": "1.0.0"
}

# Initialize the streaming handler
handler = StreamingHandler(
    metadata=metadata,
    target="whitespace",
    encode_first_chunk_only=True
)

# Process chunks as they arrive
chunks = [
    "This is the first chunk of text. ",
    "This is the second chunk. ",
    "And this is the final chunk."
]

processed_chunks = []
for i, chunk in enumerate(chunks):
    is_final = i == len(chunks) - 1

    processed_chunk = handler.process_chunk(
        chunk=chunk,
        is_final=is_final
    )

    processed_chunks.append(processed_chunk)
    print(f"Processed chunk {i+1}: {processed_chunk}")

# If the last chunk wasn't marked as is_final=True, finalize the stream
if not chunks:  # If no chunks were processed with is_final=True
    handler.finalize()

# Combine all processed chunks
full_text = "".join(processed_chunks)

# Now you can extract and verify the metadata using the standard MetadataEncoder
from llm_dispatch.embedding import MetadataEncoder

encoder = MetadataEncoder()
extracted_metadata = encoder.decode_metadata(full_text)
verification_result = encoder.verify_text(full_text)

print(f"Extracted metadata: {extracted_metadata}")
print(f"Verification result: {verification_result}")

# fmt: on
# -- not in the seed: what the sample showed ------------------------------------------------
assert extracted_metadata == metadata
print(f"Invisible characters added: {len(full_text) - len(''.join(chunks))}")
print(f"Why: {encoder.verify(full_text).message}")
