"""Whether a target can take a request: the modalities it sends, and the size of its parts.

The router asks :meth:`RequestNeeds.unmet` of every target it plans; a target that cannot
take the request is skipped with the reason this returns:

- a modality the target's model does not take (its capabilities, see
  :mod:`llm_dispatch.settings.capabilities`):
  ``takes text, image, document; this request sends audio (audio[0])``;
- a part over its provider kind's size limit (:data:`PART_LIMITS`, the official APIs'
  published limits, applied to every provider of that kind):
  ``images[0] is 7.9 MB; anthropic takes images up to 5 MB``;
- more inline media in one request than its kind takes (:data:`INLINE_REQUEST_LIMITS`);
- a part in a form its kind does not send (:data:`PART_FORMATS`, :data:`URL_REFUSED`,
  :data:`USER_TURN_MEDIA_ONLY`): ``audio is audio/ogg; openai takes audio as audio/wav or
  audio/mpeg``, ``documents[0] is a URL; openai takes documents as bytes only``.

Sizes are those of the parts' bytes as given (``DocumentPart.size`` ...; base64 encoding
on the wire is not counted); a part the provider fetches by URL has no size here. Parts
are named by their ``source`` (the argument they came from), else by their place in the
request (``messages[0].content[1]``). A ``function`` target takes everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..content import AudioPart, DocumentPart, ImagePart, Modality
from ..providers.function import FUNCTION_PROVIDER
from ..request import Request
from .target import Target

__all__ = [
    "INLINE_REQUEST_LIMITS",
    "MB",
    "MODALITIES_REFUSED",
    "PART_FORMATS",
    "PART_LIMITS",
    "URL_REFUSED",
    "USER_TURN_MEDIA_ONLY",
    "MediaNeed",
    "RequestNeeds",
]

#: One megabyte as the provider APIs count it (2**20 bytes).
MB = 1024 * 1024

#: Per provider kind, the largest part of each modality, in bytes.
PART_LIMITS: dict[str, dict[Modality, int]] = {
    "anthropic": {"image": 5 * MB, "document": 32 * MB},
    "openai": {"image": 20 * MB, "audio": 25 * MB},
}

#: Per provider kind, the most inline media bytes of one request (all parts together).
INLINE_REQUEST_LIMITS: dict[str, int] = {"google": 20 * MB}

#: Per provider kind, the only MIME types it sends for a modality (others: every one
#: :mod:`llm_dispatch.media` reads).
PART_FORMATS: dict[str, dict[Modality, tuple[str, ...]]] = {
    "openai": {"audio": ("audio/wav", "audio/mpeg")},
}

#: Per provider kind, the modalities it cannot send as a URL (only as bytes).
URL_REFUSED: dict[str, frozenset[Modality]] = {"openai": frozenset({"audio", "document"})}

#: Per request form, the modalities it sends in no form at all, whatever the model takes
#: (OpenAI's Responses API has no audio input).
MODALITIES_REFUSED: dict[str, frozenset[Modality]] = {"openai-responses": frozenset({"audio"})}

#: Provider kinds (request forms) whose API takes media in user turns only.
USER_TURN_MEDIA_ONLY = frozenset({"openai", "openai-responses"})

# How reasons name a request form that is not a kind.
_FORM_NAMES = {"openai-responses": "openai's Responses API"}

_PLURAL: dict[Modality, str] = {
    "text": "text",
    "image": "images",
    "audio": "audio",
    "document": "documents",
}


@dataclass(frozen=True, slots=True)
class MediaNeed:
    """One media part of a request: its modality, its name in messages, its inline bytes
    (None for a URL), its MIME type and the role of its turn."""

    modality: Modality
    source: str
    size: int | None
    mime_type: str | None = None
    role: str = "user"


@dataclass(frozen=True, slots=True)
class RequestNeeds:
    """What a request asks of a target: its modalities and its media parts."""

    modalities: frozenset[Modality]
    parts: tuple[MediaNeed, ...]

    @classmethod
    def of(cls, request: Request) -> RequestNeeds:
        parts: list[MediaNeed] = []
        for i, message in enumerate(request.messages):
            if isinstance(message.content, str):
                continue
            for j, part in enumerate(message.content):
                if isinstance(part, ImagePart | AudioPart | DocumentPart):
                    source = part.source or f"messages[{i}].content[{j}]"
                    parts.append(
                        MediaNeed(part.type, source, part.size, part.mime_type, message.role)
                    )
        return cls(request.modalities, tuple(parts))

    def unmet(self, target: Target) -> str | None:
        """Why ``target`` cannot take the request, or None when it can."""
        kind = target.kind or target.provider
        if kind == FUNCTION_PROVIDER or not self.parts:
            return None
        capabilities = target.capabilities
        if capabilities is not None:
            missing = self.modalities - capabilities.modalities
            if missing:
                return f"takes {capabilities.describe()}; this request sends " + " and ".join(
                    f"{m} ({_names(p.source for p in self.parts if p.modality == m)})"
                    for m in sorted(missing, key=_order)
                )
        return self._too_large(kind) or self._unsent_form(target.form_kind)

    def _unsent_form(self, kind: str) -> str | None:
        form = _FORM_NAMES.get(kind, kind)
        refused = MODALITIES_REFUSED.get(kind, frozenset()) & self.modalities
        reasons: list[str] = [
            f"{_names(p.source for p in self.parts if p.modality == m)}: {form} takes no "
            f"{_PLURAL[m]}"
            for m in sorted(refused, key=_order)
        ]
        for modality, formats in PART_FORMATS.get(kind, {}).items():
            reasons += [
                f"{p.source} is {p.mime_type}; {kind} takes {_PLURAL[modality]} as "
                + " or ".join(formats)
                for p in self.parts
                if p.modality == modality and p.size is not None and p.mime_type not in formats
            ]
        refused = URL_REFUSED.get(kind, frozenset())
        reasons += [
            f"{p.source} is a URL; {kind} takes {_PLURAL[p.modality]} as bytes only"
            for p in self.parts
            if p.modality in refused and p.size is None
        ]
        if kind in USER_TURN_MEDIA_ONLY:
            in_answers = [p.source for p in self.parts if p.role != "user"]
            if in_answers:
                reasons.append(
                    f"{_names(in_answers)} in an assistant turn; {kind} takes media in user "
                    "turns only"
                )
        return "; ".join(reasons) or None

    def _too_large(self, kind: str) -> str | None:
        reasons: list[str] = []
        for modality, limit in PART_LIMITS.get(kind, {}).items():
            over = [p for p in self.parts if p.modality == modality and (p.size or 0) > limit]
            if over:
                sizes = ", ".join(f"{p.source} is {_size(p.size or 0, limit)}" for p in over)
                reasons.append(
                    f"{sizes}; {kind} takes {_PLURAL[modality]} up to {_megabytes(limit)}"
                )
        inline_limit = INLINE_REQUEST_LIMITS.get(kind)
        if inline_limit is not None:
            inline = [p for p in self.parts if p.size is not None]
            total = sum(p.size or 0 for p in inline)
            if total > inline_limit:
                reasons.append(
                    f"the inline media ({_names(p.source for p in inline)}) come to "
                    f"{_size(total, inline_limit)}; {kind} takes up to "
                    f"{_megabytes(inline_limit)} of inline data per request"
                )
        return "; ".join(reasons) or None


def _order(modality: Modality) -> int:
    return tuple(_PLURAL).index(modality)


def _names(sources: Iterable[str]) -> str:
    names = list(dict.fromkeys(sources))
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _megabytes(size: int) -> str:
    return f"{size / MB:g} MB"


def _size(size: int, limit: int) -> str:
    """``7.9 MB``; in bytes when one decimal would not show it is over ``limit``."""
    shown = f"{size / MB:.1f} MB"
    if round(size / MB, 1) <= limit / MB:
        return f"{size:,} bytes (over {limit:,})"
    return shown
