"""EncypherAI streaming support guide (seed 001), "Advanced Configuration": a custom target
(after punctuation), the two embedding strategies, and ``min_buffer_size``.

The code below is the seed's three fragments in order (the later ones use the first's
``metadata``), with ``encypher.streaming.handlers`` / ``encypher.core.unicode_metadata``
spelt ``llm_dispatch.embedding``, indentation put back and the comma the page's metadata
dict lacks after ``int(time.time())`` added. The fragments only build handlers; the lines
after them stream one text through each and show where its metadata went.

    python examples/seed_encypher/advanced_configuration.py
"""
# ruff: noqa: E402, I001

# fmt: off
from llm_dispatch.embedding import StreamingHandler
from llm_dispatch.embedding import MetadataTarget
import time
# Create metadata
metadata = {
    "model_id": "gpt-4",
    "timestamp": int(time.time()), # Unix/Epoch timestamp
    "version": "1.1.0"
}
# Initialize with custom target
handler = StreamingHandler(
    metadata=metadata,
    target=MetadataTarget.PUNCTUATION, # Embed after punctuation
    encode_first_chunk_only=True,
    hmac_secret_key="your-secret-key" # Optional: Only needed for HMAC verification
)

# Embed only in the first chunk (default)
handler1 = StreamingHandler(
    metadata=metadata,
    encode_first_chunk_only=True,
    hmac_secret_key="your-secret-key" # Optional: Only needed for HMAC verification
)
# Embed throughout the stream
handler2 = StreamingHandler(
    metadata=metadata,
    encode_first_chunk_only=False,
    hmac_secret_key="your-secret-key" # Optional: Only needed for HMAC verification
)

# Wait for at least 50 characters before embedding
handler = StreamingHandler(
    metadata=metadata,
    min_buffer_size=50,
    encode_first_chunk_only=True,
    hmac_secret_key="your-secret-key" # Optional: Only needed for HMAC verification
)

# fmt: on
# -- not in the seed: one text through each handler ------------------------------------------
from llm_dispatch.embedding import UnicodeMetadata

chunks = ["Hello, world. ", "This is the second chunk of a short ", "answer, and its end."]
punctuation = StreamingHandler(
    metadata=metadata, target=MetadataTarget.PUNCTUATION, hmac_secret_key="your-secret-key"
)
for name, h in [
    ("punctuation", punctuation),
    ("first chunk only", handler1),
    ("spread", handler2),
    ("min_buffer_size=50", handler),
]:
    out = [h.process_chunk(c, is_final=i == len(chunks) - 1) for i, c in enumerate(chunks)]
    summary = h.finalize()
    valid, found = UnicodeMetadata.verify_metadata("".join(out), hmac_secret_key="your-secret-key")
    print(
        f"{name}: header at character {summary['header_offset']} "
        f"in {summary['header_pieces']} piece(s), "
        f"{summary['payload_characters']} invisible characters, valid={valid}, "
        f"same metadata={found == metadata}"
    )
