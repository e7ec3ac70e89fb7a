"""Which configured provider serves a model name given with ``model=`` and no provider.

A provider serves a model it names (in ``models``, ``default_model``, ``prices`` or
``capabilities``); failing that, a provider whose kind's model names take it (the built-in
family table, and the name prefixes below). A model no configured provider serves is an
error before anything is sent, never a request to whichever provider comes first.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import NoProviderAvailable
from ..providers.kinds import base_kind
from ..settings.capabilities import family_of
from ..settings.models import FUNCTION_PROVIDER, DispatchConfig

__all__ = ["MODEL_PREFIXES", "model_owner", "unserved_model"]

#: Model-name prefixes of each provider kind: ``model="claude-..."`` reaches Anthropic when
#: no configured provider names that model.
MODEL_PREFIXES: dict[str, tuple[str, ...]] = {
    "openai": ("gpt-", "o1", "o3", "o4", "chatgpt-"),
    "anthropic": ("claude",),
    "google": ("gemini", "gemma"),
}


def model_owner(config: DispatchConfig, order: Sequence[str], model: str) -> str | None:
    """The first provider in ``order`` that names ``model``, else the first whose kind's
    model names take it, else None."""
    for name in order:
        entry = config.providers[name]
        if (
            model in entry.models
            or entry.default_model == model
            or model in entry.prices
            or model in entry.capabilities
        ):
            return name
    for name in order:
        kind = base_kind(config.providers[name].kind)
        if family_of(kind, model) is not None or model.startswith(MODEL_PREFIXES.get(kind, ())):
            return name
    return None


def unserved_model(config: DispatchConfig, task_type: str, model: str) -> NoProviderAvailable:
    """The error for ``model=`` that no configured provider serves."""
    kinds = sorted({e.kind for e in config.providers.values() if e.kind != FUNCTION_PROVIDER})
    return NoProviderAvailable(
        task_type,
        {
            f"model={model!r}": "no configured provider serves it: none names it in "
            "models, default_model, prices or capabilities, and it is no model name of "
            f"a configured provider's kind ({', '.join(kinds) or 'none configured'})"
        },
        hint=(
            "To send it to an OpenAI-compatible server, name that provider "
            "(providers=['<name>'] or provider='<name>'), or list the model under "
            "providers.<name>.models in the configuration."
        ),
    )
