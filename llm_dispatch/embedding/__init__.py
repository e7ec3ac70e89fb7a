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

from .. import lazy
from ..errors import PayloadError

if TYPE_CHECKING:
    from .handler import StreamingHandler
    from .options import EmbeddingOptions
    from .signing import ENV_KEY, process_key
    from .stage import EmbeddingStage
    from .targets import MetadataTarget
    from .unicode_metadata import MetadataEncoder, UnicodeMetadata
    from .verify import VerificationResult, VerifyStatus

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


# Each public name's module, imported when the name is first read.
_SOURCES = {
    "ENV_KEY": ".signing",
    "EmbeddingOptions": ".options",
    "EmbeddingStage": ".stage",
    "MetadataEncoder": ".unicode_metadata",
    "MetadataTarget": ".targets",
    "StreamingHandler": ".handler",
    "UnicodeMetadata": ".unicode_metadata",
    "VerificationResult": ".verify",
    "VerifyStatus": ".verify",
    "process_key": ".signing",
}


def __getattr__(name: str) -> Any:
    return lazy.attribute(__name__, _SOURCES, name)


def __dir__() -> list[str]:
    return lazy.names(__name__, __all__)
