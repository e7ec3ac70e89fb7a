"""What a provider stream yields, normalised across providers.

These sit on the per-chunk hot path, so they are slotted dataclasses, not pydantic models.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

__all__ = ["ProviderEvent", "Usage"]


class Usage(BaseModel):
    """Token counts of one completion. ``estimated`` is true when the provider sent none."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    estimated: bool = False

    @classmethod
    def of(cls, prompt: int, completion: int, *, estimated: bool = False) -> Usage:
        return cls(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            estimated=estimated,
        )


@dataclass(slots=True)
class ProviderEvent:
    """One normalised event: a text delta, or a report of usage and/or finish reason.

    A text event carries only ``text``; ``usage`` and ``finish_reason`` come in events with no
    text (the dispatcher's per-chunk path reads nothing else from a text event). A provider
    stream ends normally only after it has seen the provider's closing event; a body that
    ends without one is an ``IncompleteStreamError``.
    """

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
