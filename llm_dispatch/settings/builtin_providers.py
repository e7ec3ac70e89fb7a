"""The providers a configuration has when it names none: OpenAI, Anthropic and Gemini with
their default models, example prices and documented capabilities."""

from __future__ import annotations

from ..content import Modality
from ..providers.base import ModelPrice
from .capabilities import ModelCapabilities
from .providers import ProviderConfig

__all__ = ["builtin_providers"]


def builtin_providers() -> dict[str, ProviderConfig]:
    """The providers used when no configuration file exists.

    The prices are public list prices at the time of writing, as examples: adjust them in
    your own ``dispatch.yaml``. The capabilities are the providers' documented ones (the
    same as the family table gives those names).
    """
    return {
        "openai": ProviderConfig(
            kind="openai",
            default_model="gpt-4o-mini",
            prices={
                "gpt-4o-mini": ModelPrice(input=0.15, output=0.60, cached_input=0.075),
                "gpt-4o": ModelPrice(input=2.50, output=10.00, cached_input=1.25),
                "gpt-4.1": ModelPrice(input=2.00, output=8.00, cached_input=0.50),
                "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60, cached_input=0.10),
            },
            capabilities={
                "gpt-4o-mini": _takes(_IMAGE_DOCUMENT, 128_000),
                "gpt-4o": _takes(_IMAGE_DOCUMENT, 128_000),
                "gpt-4.1": _takes(_IMAGE_DOCUMENT, 1_047_576),
                "gpt-4.1-mini": _takes(_IMAGE_DOCUMENT, 1_047_576),
            },
        ),
        "anthropic": ProviderConfig(
            kind="anthropic",
            default_model="claude-sonnet-4-5",
            prices={
                "claude-sonnet-4-5": ModelPrice(
                    input=3.00, output=15.00, cached_input=0.30, cache_write=3.75
                ),
                "claude-haiku-4-5": ModelPrice(
                    input=1.00, output=5.00, cached_input=0.10, cache_write=1.25
                ),
                "claude-opus-4-1": ModelPrice(
                    input=15.00, output=75.00, cached_input=1.50, cache_write=18.75
                ),
            },
            capabilities={
                "claude-sonnet-4-5": _takes(_IMAGE_DOCUMENT, 200_000),
                "claude-haiku-4-5": _takes(_IMAGE_DOCUMENT, 200_000),
                "claude-opus-4-1": _takes(_IMAGE_DOCUMENT, 200_000),
            },
        ),
        "google": ProviderConfig(
            kind="google",
            default_model="gemini-2.5-flash",
            prices={
                "gemini-2.5-flash": ModelPrice(input=0.30, output=2.50, cached_input=0.03),
                "gemini-2.5-flash-lite": ModelPrice(input=0.10, output=0.40, cached_input=0.01),
                "gemini-2.5-pro": ModelPrice(input=1.25, output=10.00, cached_input=0.125),
            },
            capabilities={
                "gemini-2.5-flash": _takes(_EVERY, 1_048_576),
                "gemini-2.5-flash-lite": _takes(_EVERY, 1_048_576),
                "gemini-2.5-pro": _takes(_EVERY, 1_048_576),
            },
        ),
    }


_IMAGE_DOCUMENT: tuple[Modality, ...] = ("text", "image", "document")
_EVERY: tuple[Modality, ...] = ("text", "image", "audio", "document")


def _takes(modalities: tuple[Modality, ...], context_window: int) -> ModelCapabilities:
    return ModelCapabilities(modalities=modalities, context_window=context_window)
