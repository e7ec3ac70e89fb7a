"""Per-function or per-call policy overrides laid over the configuration's defaults."""

from __future__ import annotations

from typing import Any

from ..settings.models import PolicySettings

__all__ = ["merge_policy", "policy_overrides"]


def policy_overrides(
    policy: PolicySettings | dict[str, Any] | None,
    *,
    fallback_enabled: bool | None,
    max_retries: int | None,
    timeout: float | None,
    mid_stream: str | None,
) -> dict[str, Any]:
    """The decorator's policy arguments as a nested dict of overrides (validated later)."""
    if isinstance(policy, PolicySettings):
        overrides: dict[str, Any] = policy.model_dump(exclude_unset=True)
    else:
        overrides = dict(policy or {})
    if fallback_enabled is not None:
        overrides["fallback"] = fallback_enabled
    if max_retries is not None:
        overrides.setdefault("retry", {})["max_retries"] = max_retries
    if timeout is not None:
        overrides.setdefault("timeouts", {})["total"] = timeout
    if mid_stream is not None:
        overrides["mid_stream"] = mid_stream
    if "budgets" in overrides:
        raise ValueError(
            "policy: 'budgets' cannot be set per call: the spend counters are the "
            "dispatcher's (defaults.budgets in the configuration)"
        )
    if overrides:
        # Fail at decoration time, not on the first call.
        merge_policy(PolicySettings(), overrides)
    return overrides


def merge_policy(base: PolicySettings, overrides: dict[str, Any]) -> PolicySettings:
    """``base`` with ``overrides`` applied (sections such as ``retry`` merged key by key)."""
    if not overrides:
        return base
    if "limits" in overrides:
        # One limiter serves every call of a dispatcher: a call cannot count elsewhere.
        raise ValueError(
            "'limits' cannot be overridden per call or function: set defaults.limits and "
            "each provider's limits in the configuration"
        )
    data = base.model_dump()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return PolicySettings.model_validate(data)
