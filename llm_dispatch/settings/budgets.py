"""Spend caps (``budgets:``) and where their counters live (``defaults.budgets``).

A :class:`BudgetConfig` caps what the calls it covers may spend per day and per month, in
USD: the calls to one provider (``provider:``), the calls of one route (``route:``), or the
calls that name a scope (``scope:``, a tenant: ``budget_scope="tenant-a"`` on the call;
``"*"``: every scope, each with a cap of its own). :class:`BudgetSettings` says where the
counters are kept (this process, or a Redis server every process shares) and how a call's
cost is estimated before it is sent. :func:`.budget_checks.budget_problems` checks the
entries against the rest of the configuration: known providers and routes, and a price
for every model a budget covers (a cost that cannot be estimated cannot be checked
against a cap).
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..errors import ConfigProblems
from .problems import ConfigProblem
from .stores import NAMESPACE_HELP, SharedStoreSettings

__all__ = ["ANY_SCOPE", "BudgetConfig", "BudgetLevel", "BudgetSettings"]

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


class BudgetSettings(SharedStoreSettings):
    """Where budget counters live and how a call's cost is estimated before it is sent."""

    store_name = "budget"

    namespace: str = Field(default="llm_dispatch:budget", min_length=1, description=NAMESPACE_HELP)
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
