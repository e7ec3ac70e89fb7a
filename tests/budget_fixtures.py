"""Helpers of the budget tests (imported explicitly by tests/test_budgets*.py and the
worker of the process test): priced provider entries on the fake server, a clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from llm_dispatch.testing import FakeProviderServer

try:
    from conftest import FAST_RETRY, fake_providers
except ImportError:  # tests/ imported as a package
    from tests.conftest import FAST_RETRY, fake_providers

#: USD per million tokens: 0.001 USD a token, so costs read as token counts / 1000.
PRICE = {"input": 1000.0, "output": 1000.0}
#: Monday 2026-12-07 12:00 UTC, as epoch seconds.
NOON = datetime(2026, 12, 7, 12, tzinfo=UTC).timestamp()
DAY = 86_400.0


def priced_providers(server: FakeProviderServer) -> dict[str, Any]:
    """The three SDK providers on ``server``, each default model priced at :data:`PRICE`."""
    providers = fake_providers(server)
    for entry in providers.values():
        entry["prices"] = {entry["default_model"]: dict(PRICE)}
    return providers


def budget_config(
    server: FakeProviderServer,
    budgets: list[dict[str, Any]],
    *,
    defaults: dict[str, Any] | None = None,
    routes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A configuration with ``budgets`` over the priced providers (fast retries)."""
    defaults = dict(defaults or {})
    defaults["retry"] = {**FAST_RETRY, **defaults.get("retry", {})}
    config: dict[str, Any] = {
        "providers": priced_providers(server),
        "budgets": budgets,
        "defaults": defaults,
    }
    if routes is not None:
        config["routes"] = routes
    return config


class FakeClock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def at(self, year: int, month: int, day: int, hour: int = 12) -> None:
        self.now = datetime(year, month, day, hour, tzinfo=UTC).timestamp()
