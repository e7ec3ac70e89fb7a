"""Spend caps (``budgets:``) and where their counters live (``defaults.budgets``).

A :class:`BudgetConfig` caps what the calls it covers may spend per day and per month, in
USD: the calls to one provider (``provider:``), the calls of one route (``route:``), or the
calls that name a scope (``scope:``, a tenant: ``budget_scope="tenant-a"`` on the call;
``"*"``: every scope, each with a cap of its own). :class:`BudgetSettings` says where the
counters are kept (this process, or a Redis server every process shares) and how a call's
cost is estimated before it is sent. :func:`budget_problems` checks the entries against the
rest of the configuration: known providers and routes, and a price for every model a
budget covers (a cost that cannot be estimated cannot be checked against a cap).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ConfigProblems
from ..providers.function import FUNCTION_PROVIDER
from ..redaction import is_plain_word
from ..urls import SecretUrl
from .paths import did_you_mean
from .problems import ConfigProblem
from .routes import ROUTE_KEYS

if TYPE_CHECKING:
    from .models import DispatchConfig

__all__ = ["ANY_SCOPE", "BudgetConfig", "BudgetLevel", "BudgetSettings", "budget_problems"]

#: What a budget covers: the calls to a provider, of a route, or naming a scope.
BudgetLevel = Literal["provider", "route", "scope"]
LEVELS: tuple[BudgetLevel, ...] = ("provider", "route", "scope")

#: ``scope: "*"``: every scope a call names gets a cap of its own.
ANY_SCOPE = "*"


def _time_zone(value: str) -> str:
    """``value`` if it names a time zone (``UTC``, ``Europe/Berlin``), else a ValueError."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from None
    return value


class BudgetConfig(BaseModel):
    """One spend cap: exactly one of ``provider``, ``route`` or ``scope``, and at least one
    of ``per_day`` / ``per_month``."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    name: str | None = Field(
        default=None,
        min_length=1,
        description="What errors and logs call this budget; unset: 'provider openai', "
        "'route default', 'scope tenant-a' ...",
    )
    provider: str | None = Field(
        default=None, min_length=1, description="Caps the calls sent to this provider."
    )
    route: str | None = Field(
        default=None,
        min_length=1,
        description="Caps the calls this route serves (a task type, or default).",
    )
    scope: str | None = Field(
        default=None,
        min_length=1,
        description="Caps the calls that name this scope (budget_scope=); '*': every scope, "
        "each on its own.",
    )
    per_day: float | None = Field(
        default=None, gt=0, description="USD the covered calls may spend per calendar day."
    )
    per_month: float | None = Field(
        default=None, gt=0, description="USD the covered calls may spend per calendar month."
    )
    timezone: str | None = Field(
        default=None,
        description="IANA time zone of the day and month boundaries; unset: "
        "defaults.budgets.timezone.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return value if value is None else _time_zone(value)

    @model_validator(mode="after")
    def _one_selector_one_cap(self) -> BudgetConfig:
        problems: list[ConfigProblem] = []
        chosen = [level for level in LEVELS if getattr(self, level) is not None]
        if len(chosen) != 1:
            problems.append(
                ConfigProblem(
                    (),
                    "a budget covers exactly one of provider, route or scope"
                    + (f" (this one names {', '.join(chosen)})" if chosen else ""),
                )
            )
        if self.per_day is None and self.per_month is None:
            problems.append(ConfigProblem((), "a budget needs per_day, per_month or both (USD)"))
        if problems:
            raise ConfigProblems(problems)
        return self

    @property
    def level(self) -> BudgetLevel:
        return next(level for level in LEVELS if getattr(self, level) is not None)

    @property
    def selector(self) -> str:
        """The provider, route or scope this budget covers."""
        value = getattr(self, self.level)
        assert isinstance(value, str)
        return value

    @property
    def label(self) -> str:
        """``name``, else ``<level> <selector>``."""
        return self.name or f"{self.level} {self.selector}"

    def caps(self) -> list[tuple[Literal["day", "month"], float]]:
        """Each period this budget caps, with its amount in USD."""
        found: list[tuple[Literal["day", "month"], float]] = []
        if self.per_day is not None:
            found.append(("day", self.per_day))
        if self.per_month is not None:
            found.append(("month", self.per_month))
        return found


class BudgetSettings(BaseModel):
    """Where budget counters live and how a call's cost is estimated before it is sent."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    store: Literal["memory"] | SecretUrl = Field(
        default="memory",
        description="Where spend is counted: memory (this process) or a redis://, rediss:// "
        "or unix:// URL shared by every process using that server; its password is masked "
        "everywhere but in the Redis client.",
    )
    namespace: str = Field(
        default="llm_dispatch:budget",
        min_length=1,
        description="Prefix of the Redis keys, so several applications can share one server.",
    )
    store_timeout: float = Field(
        default=0.25,
        gt=0,
        description="Longest wait for one round trip to a shared store, in seconds (the "
        "call's `total` bounds a reservation too); a store that does not answer in time is "
        "replaced by this process's own counters.",
    )
    store_retry: float = Field(
        default=5.0,
        gt=0,
        description="Seconds this process keeps its own counters after the shared store "
        "failed, before trying the store again.",
    )
    timezone: str = Field(
        default="UTC",
        description="IANA time zone of every budget's day and month boundaries, unless the "
        "budget names its own.",
    )
    default_output_tokens: int = Field(
        default=4096,
        gt=0,
        description="Output tokens a call's estimate assumes when its request sets no max_tokens.",
    )
    reservation_ttl: float = Field(
        default=600.0,
        gt=0,
        description="Seconds a call's reserved estimate holds if it is never settled (its "
        "process died); then it stops counting.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _time_zone(value)

    @field_validator("store", mode="before")
    @classmethod
    def _known_store(cls, value: Any) -> Literal["memory"] | SecretUrl:
        if value == "memory":
            return "memory"
        if not isinstance(value, str | SecretUrl):
            raise ValueError("the budget store must be 'memory' or a redis:// URL")
        url = SecretUrl(value) if isinstance(value, str) else value
        if url.scheme in ("redis", "rediss", "unix"):
            return url
        text = url.get_secret_value()
        if not url.scheme and is_plain_word(text):
            raise ValueError(
                f"unknown budget store {text!r}: use 'memory' or a redis:// URL"
                + did_you_mean(text, ["memory"])
            )
        # Name at most the scheme: the rest of a URL may hold a password.
        scheme = f" scheme {url.scheme + '://'!r}" if url.scheme else ""
        raise ValueError(
            f"unknown budget store{scheme}: use 'memory' or a redis://, rediss:// or unix:// URL"
        )


def budget_problems(config: DispatchConfig) -> list[ConfigProblem]:
    """What is wrong with ``config.budgets`` given the providers and routes (run once the
    implicit default route exists)."""
    problems: list[ConfigProblem] = []
    for i, budget in enumerate(config.budgets):
        level, selector = budget.level, budget.selector
        loc: tuple[str | int, ...] = ("budgets", i, level)
        if level == "provider" and selector not in config.providers:
            hint = did_you_mean(selector, config.providers) or (
                f" (configured: {', '.join(config.providers)})"
            )
            problems.append(ConfigProblem(loc, f"unknown provider {selector!r}{hint}"))
            continue
        if level == "route" and selector not in config.routes:
            if selector in ROUTE_KEYS:
                why = "its calls are served by the default route: cap that one, or add the route"
            else:
                why = "unknown route" + (
                    did_you_mean(selector, ROUTE_KEYS)
                    or f" (expected one of: {', '.join(ROUTE_KEYS)})"
                )
            problems.append(ConfigProblem(loc, f"no route {selector!r} is configured: {why}"))
            continue
        for provider, model in _covered_models(config, level, selector):
            if config.providers[provider].price_for(model) is None:
                problems.append(
                    ConfigProblem(
                        loc,
                        f"model {model!r} of provider {provider!r} has no price, so the "
                        f"budget {budget.label!r} cannot be checked: add "
                        f'providers.{provider}.prices["{model}"]',
                    )
                )
    return problems


def _covered_models(config: DispatchConfig, level: str, selector: str) -> list[tuple[str, str]]:
    """The ``(provider, model)`` pairs a budget covers, as far as the configuration says,
    each once, the decorated body (which costs nothing) left out."""
    pairs: dict[tuple[str, str], None] = {}
    for key, route in config.routes.items():
        if level == "route" and key != selector:
            continue
        for target in route.targets:
            entry = config.providers.get(target.provider)
            if entry is None or entry.kind == FUNCTION_PROVIDER:
                continue
            if level == "provider" and target.provider != selector:
                continue
            model = target.model or entry.resolved_model()
            if model is not None:
                pairs[(target.provider, model)] = None
    if level == "provider":
        entry = config.providers[selector]
        if entry.kind != FUNCTION_PROVIDER:
            for model in (entry.default_model, *entry.models):
                if model is not None:
                    pairs[(selector, model)] = None
    return list(pairs)
