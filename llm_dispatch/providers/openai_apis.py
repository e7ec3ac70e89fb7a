"""Which OpenAI API a model of an ``openai``-kind provider is sent to: chat completions
(``chat``) or the Responses API (``responses``).

The choice, first match wins:

1. the provider's ``model_api`` entry for the model (``{model-name: chat | responses}``);
2. a model that OpenAI serves only through the Responses API (:data:`RESPONSES_ONLY_MODELS`),
   on OpenAI itself: ``base_url`` unset, or its host ``api.openai.com``;
3. the provider's ``api`` (unset: ``chat``).

An OpenAI-compatible server (a ``base_url`` of another host) therefore speaks chat
completions unless its configuration says otherwise. Nothing here imports the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Literal
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_API",
    "OPENAI_APIS",
    "RESPONSES_ONLY_MODELS",
    "OpenAIApi",
    "openai_api_for",
    "serves_only_responses",
]

OpenAIApi = Literal["chat", "responses"]

#: The values ``api`` and ``model_api`` take.
OPENAI_APIS: tuple[OpenAIApi, ...] = ("chat", "responses")
#: The API of a provider whose configuration names none.
DEFAULT_API: OpenAIApi = "chat"

#: Model names (shell patterns, matched case-insensitively) that OpenAI serves only through
#: the Responses API: chat completions answers them with an error.
RESPONSES_ONLY_MODELS: tuple[str, ...] = (
    "o1-pro*",
    "o3-pro*",
    "codex-mini*",
    "gpt-5-pro*",
    "computer-use-preview*",
    "*-deep-research*",
)

_OFFICIAL_HOST = "api.openai.com"


def serves_only_responses(model: str) -> bool:
    """Whether ``model`` is one OpenAI serves only through the Responses API."""
    name = model.lower()
    return any(fnmatchcase(name, pattern) for pattern in RESPONSES_ONLY_MODELS)


def openai_api_for(
    model: str,
    *,
    api: OpenAIApi | None,
    model_api: Mapping[str, OpenAIApi],
    base_url: str | None,
) -> OpenAIApi:
    """The API ``model`` is sent to, by the rule of the module docstring."""
    chosen = model_api.get(model)
    if chosen is not None:
        return chosen
    if _is_openai(base_url) and serves_only_responses(model):
        return "responses"
    return api or DEFAULT_API


def _is_openai(base_url: str | None) -> bool:
    """Whether ``base_url`` is OpenAI's own endpoint (unset: the SDK's default)."""
    if base_url is None:
        return True
    return (urlsplit(base_url).hostname or "").lower() == _OFFICIAL_HOST
