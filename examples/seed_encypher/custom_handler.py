"""EncypherAI streaming handlers doc (seed 000), "Advanced Usage: Custom Streaming Handler":
a StreamingHandler subclass that keeps its own ``chunks_processed`` / ``total_characters``
and writes them into the metadata as it goes.

The code below is the seed's, with ``encypher.streaming`` / ``encypher.core`` spelt
``llm_dispatch.embedding``. The subclass assigns ``chunks_processed``, which the handler
also counts: each chunk is still counted once (the statistics say 3 for 3 chunks).

    python examples/seed_encypher/custom_handler.py
"""
# ruff: noqa: E402, I001, F401

# Not in this sample: `chunks`, as the doc's "Usage Example" defines it above it.
chunks = [
    "This is the first chunk of text. ",
    "This is the second chunk. ",
    "And this is the final chunk.",
]

# fmt: off
from llm_dispatch.embedding import StreamingHandler
from llm_dispatch.embedding import MetadataTarget
import json

class CustomStreamingHandler(StreamingHandler):
    def __init__(self, *args, **kwargs):
        # Add custom tracking
        self.chunks_processed = 0
        self.total_characters = 0

        # Initialize the parent class
        super().__init__(*args, **kwargs)

    def process_chunk(self, chunk, is_final=False):
        # Track statistics
        self.chunks_processed += 1
        self.total_characters += len(chunk)

        # Add chunk number to metadata
        self.metadata["chunk_number"] = self.chunks_processed
        self.metadata["total_characters"] = self.total_characters

        # Use the parent implementation to process the chunk
        return super().process_chunk(chunk, is_final)

    def finalize(self):
        # Add final statistics to metadata
        self.metadata["final_chunk_count"] = self.chunks_processed
        self.metadata["final_character_count"] = self.total_characters

        # Use the parent implementation to finalize
        return super().finalize()

    def get_statistics(self):
        """Custom method to get processing statistics"""
        return {
            "chunks_processed": self.chunks_processed,
            "total_characters": self.total_characters,
            "average_chunk_size": self.total_characters / max(1, self.chunks_processed)
        }

# Usage example
handler = CustomStreamingHandler(metadata={"model": "custom-model"})

# Process chunks
for chunk in chunks:
    processed = handler.process_chunk(chunk)
    # ...

# Get statistics
stats = handler.get_statistics()
print(f"Streaming statistics: {json.dumps(stats, indent=2)}")

# fmt: on
# -- not in the seed: the signed text, with the statistics the subclass embedded ------------
from llm_dispatch.embedding import UnicodeMetadata

handler = CustomStreamingHandler(metadata={"model": "custom-model"})
text = "".join(handler.process_chunk(chunk) for chunk in chunks)
print(f"In the header (sealed at the first chunk): {UnicodeMetadata.extract_metadata(text)}")
summary = handler.finalize()  # the subclass adds its final counts; they go in the trailer
text += summary["tail"]
print(f"Handler's own count: {summary['chunks']} chunks")
valid, verified = UnicodeMetadata.verify_metadata(text, hmac_secret_key=handler.hmac_secret_key)
print(f"Verified: {valid}, metadata: {verified}")
