"""``EmbeddingOptions``: how a dispatched function's output is signed.

Built from ``embed_metadata=True`` / an options object on the decorator, or from the config
file's ``embedding`` section (``target``, ``key``, ``fields`` …).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from .compact import pack
from .signing import ENV_KEY
from .targets import MetadataTarget

__all__ = ["RESERVED_FIELDS", "EmbeddingOptions"]

#: Metadata the stage fills itself; user fields may not shadow them.
RESERVED_FIELDS = frozenset(
    {"provider", "model", "task_type", "request_id", "timestamp", "contributors", "cached"}
)

KeySource = Literal["explicit", "env", "random"]


class EmbeddingOptions(BaseModel):
    """Settings of the metadata-embedding stage.

    ``hmac_key`` (aliases ``key``, ``secret_key``, ``hmac_secret_key``) defaults to
    ``$LLM_DISPATCH_HMAC_KEY``; when neither is set a random key is generated and kept here
    (``options.hmac_key.get_secret_value()``) so that the caller can verify later —
    :attr:`key_source` says which happened. The key never appears in ``repr`` or dumps.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = True
    target: MetadataTarget = MetadataTarget.WHITESPACE
    hmac_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("hmac_key", "key", "secret_key", "hmac_secret_key"),
    )
    #: Extra metadata embedded in every signed stream (JSON-like values).
    fields: dict[str, Any] = Field(default_factory=dict)
    encode_first_chunk_only: bool = True
    min_buffer_size: int = Field(default=0, ge=0)

    _key_source: KeySource = PrivateAttr(default="explicit")

    @field_validator("target", mode="before")
    @classmethod
    def _coerce_target(cls, value: Any) -> MetadataTarget:
        return MetadataTarget.coerce(value)

    @field_validator("fields")
    @classmethod
    def _check_fields(cls, value: dict[str, Any]) -> dict[str, Any]:
        clash = sorted(RESERVED_FIELDS.intersection(value))
        if clash:
            raise ValueError(
                f"{', '.join(clash)} are filled in by the dispatcher; pick other field names"
            )
        try:
            pack(value, "fields")  # reject values that cannot be embedded, at config time
        except TypeError as exc:  # pydantic reports ValueErrors, with the field's location
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _fill_key(self) -> EmbeddingOptions:
        if self.hmac_key is not None and self.hmac_key.get_secret_value():
            self._key_source = "explicit"
            return self
        env = os.environ.get(ENV_KEY)
        if env:
            self.hmac_key = SecretStr(env)
            self._key_source = "env"
        else:
            self.hmac_key = SecretStr(secrets.token_urlsafe(32))
            self._key_source = "random"
        return self

    @property
    def key_source(self) -> KeySource:
        """Where :attr:`hmac_key` came from: ``explicit``, ``env`` or ``random``."""
        return self._key_source

    @classmethod
    def from_value(
        cls, value: bool | EmbeddingOptions | Mapping[str, Any] | None
    ) -> EmbeddingOptions | None:
        """Options from a decorator argument: ``True``, a mapping, options, or off.

        ``None``/``False`` and options with ``enabled=False`` mean no embedding.
        """
        if value is None or value is False:
            return None
        if value is True:
            options = cls()
        elif isinstance(value, EmbeddingOptions):
            options = value
        elif isinstance(value, Mapping):
            options = cls.model_validate(dict(value))
        else:
            raise TypeError(
                "embed_metadata must be True, False, a dict or EmbeddingOptions, "
                f"not {type(value).__name__}"
            )
        return options if options.enabled else None
