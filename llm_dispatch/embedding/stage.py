"""``EmbeddingStage``: the dispatcher stage that signs every delivered stream.

One stage instance serves many concurrent streams, so everything per stream — the
:class:`StreamingHandler` — lives in ``ctx.values["embedding"]``, never on the stage.

Metadata embedded: ``provider``, ``model``, ``task_type``, ``request_id``, ``timestamp`` and
the user's ``fields`` (from the options, plus ``request.extra["embedding_fields"]`` for one
call) in the header; ``contributors`` (every provider that sent text, several after a
mid-stream continuation) and ``cached`` in the trailer, because they are only final at the
end. Extraction merges both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from ..stages.base import Stage
from .compact import utc_timestamp
from .handler import StreamingHandler
from .options import EmbeddingOptions
from .signing import key_id, key_to_bytes
from .verify import strip

if TYPE_CHECKING:
    from ..context import StreamContext

__all__ = ["EmbeddingStage"]


class EmbeddingStage(Stage):
    """Embeds signed provenance metadata into the stream; the trailer is its end text.

    Built from :class:`EmbeddingOptions` (or a mapping of them, or keyword overrides),
    which need a key: see :mod:`.options` for where it may come from.
    """

    name = "embedding"
    #: Where the per-stream handler is kept in ``ctx.values``.
    context_key = "embedding"
    #: Where the stream's summary (see ``StreamingHandler.finalize``) is left at the end.
    summary_key = "embedding_summary"

    def __init__(
        self, options: EmbeddingOptions | Mapping[str, Any] | None = None, **overrides: Any
    ) -> None:
        if options is None:
            options = EmbeddingOptions.model_validate(overrides)
        elif isinstance(options, Mapping):
            options = EmbeddingOptions.model_validate({**options, **overrides})
        elif overrides:
            data = options.model_dump(exclude={"hmac_key"})
            data["hmac_key"] = options.hmac_key
            updated = EmbeddingOptions.model_validate({**data, **overrides})
            if not {"hmac_key", "key", "secret_key", "hmac_secret_key"} & overrides.keys():
                updated._key_source = options.key_source
            options = updated
        if options.hmac_key is None:  # only disabled options validate without a key
            raise ValueError("these embedding options are disabled (enabled=False): no key")
        self.options: EmbeddingOptions = options
        # Unwrapped once here rather than per stream; kept private and out of repr.
        self._key = key_to_bytes(options.hmac_key)
        self._key_id = key_id(self._key).hex()

    @property
    def hmac_key(self) -> SecretStr:
        """The signing key: the configured one, or this process's random key when the
        options asked for ``hmac_key: random`` (the same as ``process_key()``)."""
        assert self.options.hmac_key is not None  # checked in __init__
        return self.options.hmac_key

    @property
    def key_id(self) -> str:
        return self._key_id

    def _metadata(self, ctx: StreamContext) -> dict[str, Any]:
        metadata: dict[str, Any] = dict(self.options.fields)
        call_fields = ctx.request.extra.get("embedding_fields")
        if isinstance(call_fields, Mapping):
            metadata.update(call_fields)
        metadata.update(
            provider=ctx.provider,
            model=ctx.model,
            task_type=ctx.task_type,
            request_id=ctx.request_id,
            timestamp=utc_timestamp(),
        )
        return metadata

    async def on_start(self, ctx: StreamContext) -> None:
        options = self.options
        ctx.values[self.context_key] = StreamingHandler(
            self._metadata(ctx),
            options.target,
            self._key,
            options.encode_first_chunk_only,
            min_buffer_size=options.min_buffer_size,
        )

    async def on_chunk(self, ctx: StreamContext, text: str) -> str:
        handler: StreamingHandler | None = ctx.values.get(self.context_key)
        if handler is None:
            return text
        if ctx.cached:
            # A replay must be signed afresh: drop any payload of ours the recorded chunks
            # may carry (a recorder placed after this stage), so none is replayed.
            text = strip(text, all_payloads=True)
        if not handler.header_sealed:
            # A fallback before the first chunk may have changed the target since on_start.
            handler.metadata["provider"] = ctx.provider
            handler.metadata["model"] = ctx.model
        return handler.process_chunk(text)

    async def on_end(self, ctx: StreamContext) -> str:
        handler: StreamingHandler | None = ctx.values.get(self.context_key)
        if handler is None:
            return ""
        if ctx.extras.has_tool_calls and handler.chars_processed == 0:
            # Only text is signed: an answer of tool calls alone carries no payload.
            return ""
        contributors = list(ctx.contributors) or ([ctx.provider] if ctx.provider else [])
        handler.update_metadata({"contributors": contributors, "cached": ctx.cached})
        summary = handler.finalize()
        ctx.values[self.summary_key] = summary
        return str(summary["tail"])

    def __repr__(self) -> str:
        return (
            f"EmbeddingStage(target={self.options.target.value!r}, key_id={self._key_id!r}, "
            f"key_source={self.options.key_source!r})"
        )
