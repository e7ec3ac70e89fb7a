"""``EmbeddingOptions``: how a dispatched function's output is signed.

Built from ``embed_metadata=True`` / a dict / an options object on the decorator, or from
the config file's ``embedding`` section (``target``, ``hmac_key``, ``fields`` …).

The key rule: a stage signs with a key someone can verify with, so there is no silent
default. The key comes from ``hmac_key`` (aliases ``key``, ``secret_key``,
``hmac_secret_key``), else from ``$LLM_DISPATCH_HMAC_KEY``; a real key has at least
:data:`MIN_KEY_LENGTH` characters. The word :data:`RANDOM_KEY` (``"random"``, shorter than
any real key, so never one) asks for this process's random key
(:func:`.signing.process_key`), shared by every stage that asks for it. Anything else —
no key at all, or one too short — is a validation error, raised when the decorator or the
configuration is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError
from .compact import pack
from .signing import ENV_KEY, process_key
from .targets import MetadataTarget

__all__ = ["MIN_KEY_LENGTH", "RANDOM_KEY", "RESERVED_FIELDS", "EmbeddingOptions"]

#: Metadata the stage fills itself; user fields may not shadow them.
RESERVED_FIELDS = frozenset(
    {"provider", "model", "task_type", "request_id", "timestamp", "contributors", "cached"}
)

#: The ``hmac_key`` value that asks for this process's random key.
RANDOM_KEY = "random"
#: The shortest key accepted; also what keeps :data:`RANDOM_KEY` from being a real key.
MIN_KEY_LENGTH = 16
_KEY_ALIASES = ("hmac_key", "key", "secret_key", "hmac_secret_key")

NO_KEY_MESSAGE = (
    "no HMAC key to sign with: set hmac_key (or key, secret_key, hmac_secret_key) to a key "
    f"of at least {MIN_KEY_LENGTH} characters, or the {ENV_KEY} environment variable; or "
    f"write hmac_key: {RANDOM_KEY} for a random key that lasts as long as the process "
    "(llm_dispatch.embedding.process_key() returns it)"
)

KeySource = Literal["explicit", "env", "random", "none"]


class EmbeddingOptions(BaseModel):
    """Settings of the metadata-embedding stage.

    ``hmac_key`` (aliases ``key``, ``secret_key``, ``hmac_secret_key``): the signing key
    (at least :data:`MIN_KEY_LENGTH` characters), or ``"random"`` for this process's
    random key; when absent or empty, ``$LLM_DISPATCH_HMAC_KEY``. Without any of them the
    options do not validate — unless ``enabled`` is false, which needs no key. After
    validation :attr:`hmac_key` holds the key in use (the random one included, so the
    caller can verify) and :attr:`key_source` says where it came from. The key never
    appears in ``repr``, dumps or validation errors.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    enabled: bool = Field(
        default=True, description="false: nothing is signed (and no key is needed)."
    )
    target: MetadataTarget = Field(
        default=MetadataTarget.WHITESPACE,
        description="Where the invisible header goes: whitespace, punctuation, first_letter, "
        "last_letter, all_characters or end.",
    )
    hmac_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("hmac_key", "key", "secret_key", "hmac_secret_key"),
        description="The signing key (at least 16 characters; aliases key, secret_key, "
        "hmac_secret_key), or random for this process's random key; unset or empty: "
        "$LLM_DISPATCH_HMAC_KEY. Secret: never in reprs, dumps or errors.",
    )
    fields: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra metadata embedded in every signed stream (JSON-like values), "
        "besides the fields the stage fills in itself, whose names it may not use.",
    )
    encode_first_chunk_only: bool = Field(
        default=True,
        description="true puts the whole header after the first target; false spreads it in "
        "pieces over the following targets.",
    )
    min_buffer_size: int = Field(
        default=0,
        ge=0,
        description="The header goes after the first target at or after this character; no "
        "text is held back.",
    )

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

    @field_validator("hmac_key")
    @classmethod
    def _check_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        # Never echo the key: the message names the rule, not the value.
        if value is not None:
            key = value.get_secret_value()
            if key and key != RANDOM_KEY and len(key) < MIN_KEY_LENGTH:
                raise ValueError(
                    f"the key is shorter than {MIN_KEY_LENGTH} characters; use a longer "
                    f"one, or {RANDOM_KEY!r} for a random key that lasts as long as the process"
                )
        return value

    @model_validator(mode="after")
    def _fill_key(self) -> EmbeddingOptions:
        given = self.hmac_key.get_secret_value() if self.hmac_key is not None else ""
        if given == RANDOM_KEY:
            self.hmac_key = SecretStr(process_key())
            self._key_source = "random"
        elif given:
            self._key_source = "explicit"
        elif env := os.environ.get(ENV_KEY):
            if len(env) < MIN_KEY_LENGTH:
                raise ValueError(f"{ENV_KEY} is shorter than {MIN_KEY_LENGTH} characters")
            self.hmac_key = SecretStr(env)
            self._key_source = "env"
        elif not self.enabled:
            self.hmac_key = None  # nothing will be signed
            self._key_source = "none"
        else:
            raise ValueError(NO_KEY_MESSAGE)
        return self

    @property
    def key_source(self) -> KeySource:
        """Where :attr:`hmac_key` came from: ``explicit``, ``env``, ``random`` (this
        process's key), or ``none`` (disabled options given no key)."""
        return self._key_source

    @classmethod
    def from_value(
        cls, value: bool | EmbeddingOptions | Mapping[str, Any] | None
    ) -> EmbeddingOptions | None:
        """Options from a decorator argument: ``True``, a mapping, options, or off.

        ``None``/``False`` and options with ``enabled=False`` mean no embedding. ``True``
        needs ``$LLM_DISPATCH_HMAC_KEY``. Invalid options raise :class:`ConfigError`
        naming ``embed_metadata`` (at decoration time, not on the first call).
        """
        if value is None or value is False:
            return None
        try:
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
        except ValidationError as exc:
            raise _config_error(exc) from None
        return options if options.enabled else None


def _config_error(exc: ValidationError) -> ConfigError:
    """The first problem of ``exc`` as a :class:`ConfigError` at ``embed_metadata``; the
    others follow on their own lines. Messages only: inputs (keys) are never shown."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        problems.append((f"embed_metadata.{loc}" if loc else "embed_metadata", message))
    (path, message), rest = problems[0], problems[1:]
    for other_path, other in rest:
        message += f"\n  also {other_path}: {other}"
    return ConfigError(message, path=path)
