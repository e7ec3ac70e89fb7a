"""What ``budgets`` must satisfy given the providers and routes: each names one that
exists, and every model it covers has a price (checked once the whole configuration is
read, the implicit default route included)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..providers.function import FUNCTION_PROVIDER
from .budgets import BudgetConfig
from .paths import did_you_mean
from .problems import ConfigProblem
from .providers import ProviderConfig
from .routes import ROUTE_KEYS, RouteConfig

__all__ = ["budget_problems"]


def budget_problems(
    budgets: Sequence[BudgetConfig],
    providers: Mapping[str, ProviderConfig],
    routes: Mapping[str, RouteConfig],
) -> list[ConfigProblem]:
    """What is wrong with ``budgets`` given the providers and routes (run once the implicit
    default route exists)."""
    problems: list[ConfigProblem] = []
    for i, budget in enumerate(budgets):
        level, selector = budget.level, budget.selector
        loc: tuple[str | int, ...] = ("budgets", i, level)
        if level == "provider" and selector not in providers:
            hint = did_you_mean(selector, providers) or f" (configured: {', '.join(providers)})"
            problems.append(ConfigProblem(loc, f"unknown provider {selector!r}{hint}"))
            continue
        if level == "route" and selector not in routes:
            if selector in ROUTE_KEYS:
                why = "its calls are served by the default route: cap that one, or add the route"
            else:
                why = "unknown route" + (
                    did_you_mean(selector, ROUTE_KEYS)
                    or f" (expected one of: {', '.join(ROUTE_KEYS)})"
                )
            problems.append(ConfigProblem(loc, f"no route {selector!r} is configured: {why}"))
            continue
        for provider, model in _covered_models(providers, routes, level, selector):
            if providers[provider].price_for(model) is None:
                problems.append(
                    ConfigProblem(
                        loc,
                        f"model {model!r} of provider {provider!r} has no price, so the "
                        f"budget {budget.label!r} cannot be checked: add "
                        f'providers.{provider}.prices["{model}"]',
                    )
                )
    return problems


def _covered_models(
    providers: Mapping[str, ProviderConfig],
    routes: Mapping[str, RouteConfig],
    level: str,
    selector: str,
) -> list[tuple[str, str]]:
    """The ``(provider, model)`` pairs a budget covers, as far as the configuration says,
    each once, the decorated body (which costs nothing) left out."""
    pairs: dict[tuple[str, str], None] = {}
    for key, route in routes.items():
        if level == "route" and key != selector:
            continue
        for target in route.targets:
            entry = providers.get(target.provider)
            if entry is None or entry.kind == FUNCTION_PROVIDER:
                continue
            if level == "provider" and target.provider != selector:
                continue
            model = target.model or entry.resolved_model()
            if model is not None:
                pairs[(target.provider, model)] = None
    if level == "provider":
        entry = providers[selector]
        if entry.kind != FUNCTION_PROVIDER:
            for model in (entry.default_model, *entry.models):
                if model is not None:
                    pairs[(selector, model)] = None
    return list(pairs)
