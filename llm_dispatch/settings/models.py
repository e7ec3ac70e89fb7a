"""The whole dispatch configuration, :class:`DispatchConfig`, and the lookups on it.

Every model forbids unknown keys, so a typo (``timeout:`` for ``timeouts:``) fails at load
instead of being ignored. :class:`DispatchConfig` also checks the sections against each other
(routes name known providers and models, route keys are task types) and fills in two
implicit entries:

- a provider named ``function`` of kind ``function`` (the decorated body), unless one is
  declared, so routes and decorators can always name it;
- a ``default`` route, unless one is declared, listing every configured provider (except
  ``function``) in declaration order with the ``priority`` strategy.

``DispatchConfig()`` with no arguments is the built-in configuration used when there is no
file at all: OpenAI, Anthropic and Google with their SDKs' usual environment variables.

The sections' models live in modules of their own and are re-exported here, so
``from llm_dispatch.settings.models import X`` works for each of them: the provider entries
in :mod:`.providers`, the routes in :mod:`.routes`, the policy models (``defaults``) in
:mod:`.policies`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..cache.options import CacheOptions
from ..embedding.options import EmbeddingOptions
from ..errors import ConfigError, ConfigProblems
from ..provider_options import KNOWN_OPTIONS, unknown_option_problem
from ..providers.base import ModelPrice, ProviderSettings
from ..redaction import is_secret_name
from .budget_checks import budget_problems
from .budgets import BudgetConfig
from .builtin_providers import builtin_providers
from .limit_checks import window_problems
from .paths import did_you_mean
from .policies import (
    CircuitSettings,
    PolicySettings,
    RetrySettings,
    TimeoutOverride,
    TimeoutSettings,
)
from .problems import ConfigProblem
from .providers import (
    API_KEY_ENV_VARS,
    BASE_URL_ENV_VARS,
    FUNCTION_MODEL,
    FUNCTION_PROVIDER,
    ProviderConfig,
    ProviderKind,
)
from .routes import ROUTE_KEYS, RouteConfig, RouteTarget, StrategyName

__all__ = [
    "API_KEY_ENV_VARS",
    "BASE_URL_ENV_VARS",
    "FUNCTION_MODEL",
    "FUNCTION_PROVIDER",
    "ROUTE_KEYS",
    "CircuitSettings",
    "ConfigProblem",
    "ConfigProblems",
    "DispatchConfig",
    "ModelPrice",
    "PolicySettings",
    "ProviderConfig",
    "ProviderKind",
    "RetrySettings",
    "RouteConfig",
    "RouteTarget",
    "StrategyName",
    "TimeoutOverride",
    "TimeoutSettings",
    "builtin_providers",
]


class DispatchConfig(BaseModel):
    """The whole configuration: providers, routes, default policies, reserved sections."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    providers: dict[str, ProviderConfig] = Field(
        default_factory=builtin_providers,
        description="Name -> provider entry; routes and decorators use the name. Unset: "
        "openai, anthropic and google with example prices. The function provider always "
        "exists.",
    )
    routes: dict[str, RouteConfig] = Field(
        default_factory=dict,
        description="Task type (or default) -> route. Without a default route, one is made "
        "of every configured provider but function, in declaration order.",
    )
    defaults: PolicySettings = Field(
        default_factory=PolicySettings,
        description="The policies of every call; decorator arguments override them per function.",
    )
    cache: CacheOptions | None = Field(
        default=None,
        description="The similar-prompt stream cache; when present and enabled, it serves "
        "every function that does not pass cache=False.",
    )
    embedding: EmbeddingOptions | None = Field(
        default=None,
        description="Signed invisible provenance for every stream when present and enabled; "
        "a function's embed_metadata= argument wins over it.",
    )
    budgets: list[BudgetConfig] = Field(
        default_factory=list,
        description="Spend caps per provider, route or scope, per day and per month (USD); "
        "a call that would pass one raises BudgetExceeded before it is sent.",
    )

    @model_validator(mode="after")
    def _complete_and_check(self) -> DispatchConfig:
        problems: list[ConfigProblem] = []
        function = self.providers.get(FUNCTION_PROVIDER)
        if function is None:
            self.providers[FUNCTION_PROVIDER] = ProviderConfig(kind="function")
        elif function.kind != FUNCTION_PROVIDER:
            problems.append(
                ConfigProblem(
                    ("providers", FUNCTION_PROVIDER, "kind"),
                    "the name 'function' is reserved for the decorated body (kind: function)",
                )
            )

        for key, route in self.routes.items():
            if key not in ROUTE_KEYS:
                problems.append(
                    ConfigProblem(
                        ("routes", key),
                        f"unknown task type {key!r}"
                        + (
                            did_you_mean(key, ROUTE_KEYS)
                            or f" (expected one of: {', '.join(ROUTE_KEYS)})"
                        ),
                    )
                )
            problems.extend(self._check_targets(key, route))
        problems.extend(window_problems(self.providers, self.defaults.limits))

        if "default" not in self.routes:
            implicit = [
                RouteTarget(provider=name)
                for name, provider in self.providers.items()
                if provider.kind != FUNCTION_PROVIDER and provider.resolved_model() is not None
            ]
            if implicit:
                self.routes["default"] = RouteConfig(targets=implicit)
        problems.extend(budget_problems(self.budgets, self.providers, self.routes))

        if problems:
            raise ConfigProblems(problems)
        return self

    def _check_targets(self, key: str, route: RouteConfig) -> list[ConfigProblem]:
        problems: list[ConfigProblem] = []
        seen: dict[str, int] = {}
        for i, target in enumerate(route.targets):
            loc: tuple[str | int, ...] = ("routes", key, "targets", i)
            provider = self.providers.get(target.provider)
            if provider is None:
                names = list(self.providers)
                hint = did_you_mean(target.provider, names) or (
                    f" (configured: {', '.join(names)})"
                )
                problems.append(ConfigProblem(loc, f"unknown provider {target.provider!r}{hint}"))
                continue
            model = target.model or provider.resolved_model()
            if model is None:
                problems.append(
                    ConfigProblem(
                        loc,
                        f"provider {target.provider!r} has no default_model or models: "
                        f"write '{target.provider}/<model>'",
                    )
                )
                continue
            if target.model is not None and provider.models and model not in provider.models:
                problems.append(
                    ConfigProblem(
                        loc,
                        f"model {model!r} is not in providers.{target.provider}.models "
                        f"{provider.models}" + did_you_mean(model, provider.models),
                    )
                )
            problems.extend(_option_problems(target, provider.kind, loc))
            full = f"{target.provider}/{model}"
            if full in seen:
                problems.append(
                    ConfigProblem(loc, f"duplicate target {full!r} (already at [{seen[full]}])")
                )
            seen.setdefault(full, i)
        return problems

    # -- lookups used by the dispatcher and the router --

    def provider(self, name: str) -> ProviderConfig:
        """The provider entry ``name``; a :class:`ValueError` with a suggestion otherwise."""
        try:
            return self.providers[name]
        except KeyError:
            raise ConfigError(
                f"unknown provider {name!r}"
                + (
                    did_you_mean(name, self.providers)
                    or f" (configured: {', '.join(self.providers)})"
                )
            ) from None

    def provider_kinds(self) -> dict[str, str]:
        """Every configured provider's name and kind."""
        return {name: provider.kind for name, provider in self.providers.items()}

    def provider_settings(self, name: str) -> ProviderSettings:
        """The :class:`ProviderSettings` of provider ``name`` (its connect timeout included)."""
        return self.provider(name).to_settings(name, self.defaults.timeouts)

    def timeouts_for(self, name: str, base: TimeoutSettings | None = None) -> TimeoutSettings:
        """``base`` (default: ``defaults.timeouts``) with provider ``name``'s overrides
        applied (none for a name that is not configured, such as a cache replay's)."""
        entry = self.providers.get(name)
        base = base if base is not None else self.defaults.timeouts
        return base.merged(entry.timeouts if entry is not None else None)

    def route_for(self, task_type: str) -> tuple[str, RouteConfig] | None:
        """The route key and route that serve ``task_type`` (its own, else ``default``)."""
        for key in (str(task_type), "default"):
            route = self.routes.get(key)
            if route is not None:
                return key, route
        return None


def _option_problems(
    target: RouteTarget, kind: str, loc: tuple[str | int, ...]
) -> list[ConfigProblem]:
    """The route target's ``options`` its provider's kind does not apply."""
    if not target.options:
        return []
    if kind == FUNCTION_PROVIDER:
        return [
            ConfigProblem(
                (*loc, "options"), "the function provider (the decorated body) takes no options"
            )
        ]
    known = KNOWN_OPTIONS.get(kind, frozenset())
    problems = [
        ConfigProblem((*loc, "options", key), unknown_option_problem(key, target.provider, kind))
        for key in target.options
        if key not in known
    ]
    # Route options are plain values (they would show in a dump of the configuration);
    # headers belong in the provider's ``extra_headers``, which are kept secret.
    problems += [
        ConfigProblem(
            (*loc, "options", key),
            f"{key!r} is not allowed in a route target's options: put headers in "
            f"providers.{target.provider}.extra_headers, whose values are kept secret",
        )
        for key in target.options
        if key in known and is_secret_name(key)
    ]
    return problems
