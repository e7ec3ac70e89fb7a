"""What a model takes: the modalities of its input, and its context window in tokens.

A provider entry's ``capabilities:`` maps model names to what they take::

    capabilities:
      gpt-4o: {modalities: [text, image, document], context_window: 128000}
      my-finetune: {context_window: 16384}

For one model (:func:`resolve_capabilities`), each of the two keys comes from the first of:

1. the provider entry's ``capabilities`` for that exact model name, when it writes the key;
2. the first family of the provider kind's built-in table (:data:`MODEL_FAMILIES`) whose
   pattern matches the model name (``fnmatch`` rules: ``gpt-4o*``, ``*-audio-preview*``),
   whatever the provider's ``base_url``: a model name such as ``gpt-4o`` names the same
   model behind a proxy or gateway, and a self-hosted server's own names
   (``Qwen/Qwen2.5-VL-7B-Instruct``) match no family;
3. text only, context window unknown.

A ``function`` target (the decorated body) takes every modality and has no window.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..content import Modality
from ..providers.function import FUNCTION_PROVIDER

__all__ = [
    "ALL_MODALITIES",
    "MODEL_FAMILIES",
    "Capabilities",
    "ModelCapabilities",
    "ModelFamily",
    "describe_modalities",
    "family_of",
    "resolve_capabilities",
]

#: Every modality, in the order messages name them.
ALL_MODALITIES: tuple[Modality, ...] = ("text", "image", "audio", "document")

_TEXT: frozenset[Modality] = frozenset({"text"})
_TEXT_AUDIO: frozenset[Modality] = frozenset({"text", "audio"})
_TEXT_IMAGE_DOCUMENT: frozenset[Modality] = frozenset({"text", "image", "document"})
_EVERY: frozenset[Modality] = frozenset(ALL_MODALITIES)


def describe_modalities(modalities: frozenset[Modality] | tuple[Modality, ...]) -> str:
    """``text, image, document``: the modalities in :data:`ALL_MODALITIES` order."""
    return ", ".join(m for m in ALL_MODALITIES if m in modalities)


class ModelCapabilities(BaseModel):
    """One ``capabilities:`` entry. A key left out is decided by the family table."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    modalities: tuple[Modality, ...] | None = Field(
        default=None,
        description="The parts the model takes (text, image, audio, document); must include "
        "text. Routing skips the model for a request that sends anything else. Unset: the "
        "family table's.",
    )
    context_window: int | None = Field(
        default=None,
        gt=0,
        description="Tokens the model reads at most, as its provider documents it; used by "
        "fallback_on: [context_length]. Unset: the family table's, else unknown.",
    )

    @field_validator("modalities")
    @classmethod
    def _with_text(cls, value: tuple[Modality, ...] | None) -> tuple[Modality, ...] | None:
        if value is None:
            return None
        if "text" not in value:
            raise ValueError("modalities must include 'text' (every request sends text)")
        return tuple(m for m in ALL_MODALITIES if m in value)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What one target's model takes, resolved (see the module docstring)."""

    modalities: frozenset[Modality] = _TEXT
    #: None: unknown.
    context_window: int | None = None

    def describe(self) -> str:
        return describe_modalities(self.modalities)


@dataclass(frozen=True, slots=True)
class ModelFamily:
    """Models whose names match ``pattern`` (``fnmatch`` rules, case-sensitive)."""

    pattern: str
    modalities: frozenset[Modality]
    context_window: int | None


#: Per provider kind, the families of the official APIs' models, first match wins (a cloud
#: kind looks up its base kind's: see :mod:`llm_dispatch.providers.kinds`).
MODEL_FAMILIES: dict[str, tuple[ModelFamily, ...]] = {
    "openai": (
        # Chat Completions' audio-input models: text and audio, no images.
        ModelFamily("*-audio-preview*", _TEXT_AUDIO, 128_000),
        ModelFamily("gpt-4.1*", _TEXT_IMAGE_DOCUMENT, 1_047_576),
        ModelFamily("gpt-4o*", _TEXT_IMAGE_DOCUMENT, 128_000),
    ),
    "anthropic": (
        # Vertex AI names them claude-...@<date>; Bedrock anthropic.claude-... (with a
        # region prefix for an inference profile: us.anthropic.claude-...).
        ModelFamily("claude-*", _TEXT_IMAGE_DOCUMENT, 200_000),
        ModelFamily("*anthropic.claude-*", _TEXT_IMAGE_DOCUMENT, 200_000),
    ),
    "google": (ModelFamily("gemini-*", _EVERY, 1_048_576),),
}


def family_of(kind: str, model: str) -> ModelFamily | None:
    """The first family of ``kind``'s table that ``model`` belongs to, or None."""
    return next((f for f in MODEL_FAMILIES.get(kind, ()) if fnmatchcase(model, f.pattern)), None)


def resolve_capabilities(
    kind: str, model: str, configured: ModelCapabilities | None = None
) -> Capabilities:
    """What ``model`` of a provider of ``kind`` takes (the rules of the module docstring)."""
    if kind == FUNCTION_PROVIDER:
        return Capabilities(_EVERY, None)
    family = family_of(kind, model)
    modalities = configured.modalities if configured is not None else None
    window = configured.context_window if configured is not None else None
    return Capabilities(
        frozenset(modalities)
        if modalities is not None
        else (family.modalities if family else _TEXT),
        window if window is not None else (family.context_window if family else None),
    )
