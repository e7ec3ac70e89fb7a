"""What the providers' ``limits`` must satisfy together with ``defaults.limits``: checked
once the whole configuration is read (a limit alone cannot know the window)."""

from __future__ import annotations

from collections.abc import Mapping

from .limits import LimitRule, LimitSettings
from .paths import did_you_mean
from .problems import ConfigProblem
from .providers import ProviderConfig

__all__ = ["window_problems"]


def window_problems(
    providers: Mapping[str, ProviderConfig], settings: LimitSettings
) -> list[ConfigProblem]:
    """The per-minute limits that allow less than one request per ``settings.window``, and
    per-model limits for models a provider does not list."""
    problems: list[ConfigProblem] = []
    for name, provider in providers.items():
        limits = provider.limits
        if limits is None:
            continue
        base: tuple[str | int, ...] = ("providers", name, "limits")
        rules: list[tuple[tuple[str | int, ...], LimitRule]] = [(base, limits)]
        for model, rule in limits.models.items():
            rules.append(((*base, "models", model), rule))
            if provider.models and model not in provider.models:
                problems.append(
                    ConfigProblem(
                        (*base, "models", model),
                        f"limits for {model!r}, which is not in models {provider.models}"
                        + did_you_mean(model, provider.models),
                    )
                )
        for loc, rule in rules:
            for key in ("requests_per_minute", "tokens_per_minute"):
                per_minute = getattr(rule, key)
                if per_minute is not None and per_minute * settings.window / 60 < 1:
                    problems.append(
                        ConfigProblem(
                            (*loc, key),
                            f"{per_minute} per minute is less than one per window of "
                            f"{settings.window:g}s (defaults.limits.window): raise it or "
                            "lengthen the window",
                        )
                    )
    return problems
