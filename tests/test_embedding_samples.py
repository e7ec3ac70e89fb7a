"""The EncypherAI streaming documentation's examples, with their ``encypher`` imports
pointed at ``llm_dispatch.embedding`` and nothing else changed — except, for the
``StreamingHandler`` example, marking the end of the stream, which that sample never does."""

from __future__ import annotations

import re
from typing import Any

import pytest

# The "Usage Example", as written there but for the two import lines.
USAGE_EXAMPLE = """
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
"""

# "Using the StreamingHandler"; the loop's ``process_chunk`` marks the last chunk.
HANDLER_EXAMPLE = """
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
    processed_chunk = handler.process_chunk(chunk=chunk__MARK_END__)
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
"""

CHUNKS = [
    "This is the first chunk of text. ",
    "This is the second chunk. ",
    "And this is the final chunk.",
]


def run(source: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    namespace: dict[str, Any] = {}
    exec(compile(source, "<documentation example>", "exec"), namespace)
    return namespace, capsys.readouterr().out


def test_usage_example_usage_example(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LLM_DISPATCH_HMAC_KEY", raising=False)
    ns, out = run(USAGE_EXAMPLE, capsys)
    assert ns["extracted_metadata"] == ns["metadata"]
    assert ns["verification_result"] is True
    assert "Verification result: True" in out
    assert f"Extracted metadata: {ns['metadata']}" in out
    # Nothing was held back: every processed chunk contains its input chunk.
    from llm_dispatch.embedding import UnicodeMetadata

    assert UnicodeMetadata.strip_metadata(ns["full_text"]) == "".join(CHUNKS)
    # The header rode with the first chunk, the trailer with the final one.
    assert len(ns["processed_chunks"][0]) > len(CHUNKS[0])
    assert ns["processed_chunks"][1] == CHUNKS[1]


def test_handler_example_with_the_end_marked(capsys: pytest.CaptureFixture[str]) -> None:
    source = HANDLER_EXAMPLE.replace("__MARK_END__", ", is_final=chunk is chunks[-1]")
    ns, out = run(source, capsys)
    assert ns["extracted_metadata"] == ns["metadata"]
    assert ns["is_valid"] is True
    assert ns["verified_metadata"] == ns["metadata"]
    assert "Verification result: ✅ Verified" in out


def test_handler_example_with_the_end_marked_by_finalize(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The other documented way: finalize() after the loop, appending its tail.
    source = HANDLER_EXAMPLE.replace("__MARK_END__", "").replace(
        'full_text = "".join(processed_chunks)',
        'full_text = "".join(processed_chunks) + handler.finalize()["tail"]',
    )
    ns, out = run(source, capsys)
    assert ns["is_valid"] is True
    assert "✅ Verified" in out


def test_handler_example_as_written_is_truncated_never_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ns, out = run(HANDLER_EXAMPLE.replace("__MARK_END__", ""), capsys)
    # Extraction works; verification refuses, and says how to mark the end.
    assert ns["extracted_metadata"] == ns["metadata"]
    assert ns["is_valid"] is False and ns["verified_metadata"] is None
    assert "❌ Failed" in out
    from llm_dispatch.embedding import UnicodeMetadata, VerifyStatus

    result = UnicodeMetadata.verify(ns["full_text"], hmac_secret_key="your-secret-key")
    assert result.status is VerifyStatus.TRUNCATED
    assert re.search(r"is_final=True.*finalize\(\)", result.message)


def test_handler_example_custom_target_and_strategies() -> None:
    from llm_dispatch.embedding import StreamingHandler, UnicodeMetadata
    from llm_dispatch.embedding.unicode_metadata import MetadataTarget

    metadata = {"model_id": "gpt-4", "timestamp": 1_700_000_000, "version": "1.1.0"}
    for kwargs in (
        {"target": MetadataTarget.PUNCTUATION, "encode_first_chunk_only": True},
        {"encode_first_chunk_only": False},
        {"min_buffer_size": 50, "encode_first_chunk_only": True},
    ):
        handler = StreamingHandler(metadata=metadata, hmac_secret_key="your-secret-key",
                                   **kwargs)  # fmt: skip
        text = "".join(handler.process_chunk(c, is_final=c is CHUNKS[-1]) for c in CHUNKS)
        assert UnicodeMetadata.verify_metadata(text, hmac_secret_key="your-secret-key") == (
            True,
            metadata,
        )
