"""Invisible, signed provenance metadata in streamed text.

Standalone, with the API of the EncypherAI streaming docs (``encypher`` spelt
``llm_dispatch.embedding``)::

    from llm_dispatch.embedding import StreamingHandler, UnicodeMetadata

    handler = StreamingHandler(metadata={"model": "gpt-4"}, hmac_secret_key="secret")
    text = "".join(handler.process_chunk(c, is_final=i == last) for i, c in enumerate(chunks))
    UnicodeMetadata.verify_metadata(text, hmac_secret_key="secret")  # (True, {...})

In the dispatcher, :class:`EmbeddingStage` does the same for every stream; it needs a key
(``hmac_key``, ``$LLM_DISPATCH_HMAC_KEY``, or ``hmac_key: random`` for the per-process key
that :func:`process_key` returns). The format and its guarantees are described in
``docs/embedding.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import PayloadError
from .handler import StreamingHandler
from .options import EmbeddingOptions
from .signing import ENV_KEY, process_key
from .targets import MetadataTarget
from .unicode_metadata import MetadataEncoder, UnicodeMetadata
from .verify import VerificationResult, VerifyStatus

if TYPE_CHECKING:
    from .stage import EmbeddingStage

__all__ = [
    "ENV_KEY",
    "EmbeddingOptions",
    "EmbeddingStage",
    "MetadataEncoder",
    "MetadataTarget",
    "PayloadError",
    "StreamingHandler",
    "UnicodeMetadata",
    "VerificationResult",
    "VerifyStatus",
    "process_key",
]


def __getattr__(name: str) -> Any:
    # The stage pulls in the dispatcher's stage protocol; the standalone module does not
    # need it, so it is imported on first use.
    if name == "EmbeddingStage":
        from .stage import EmbeddingStage

        return EmbeddingStage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
