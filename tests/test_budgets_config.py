"""The ``budgets:`` section and ``defaults.budgets``: what is accepted, and errors that name
the file, the line and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_dispatch.budgets import MemoryBudgetStore, store_from_settings
from llm_dispatch.errors import ConfigError
from llm_dispatch.settings.budgets import BudgetSettings
from llm_dispatch.settings.loader import load_config

PROVIDERS = """\
providers:
  openai:
    kind: openai
    api_key: sk-test
    default_model: gpt-4o-mini
    prices:
      gpt-4o-mini: {input: 0.15, output: 0.6}
  local:
    kind: openai
    api_key: none
    base_url: http://127.0.0.1:8000/v1
    default_model: llama
"""


def load(tmp_path: Path, text: str) -> tuple[Path, str]:
    path = tmp_path / "dispatch.yaml"
    path.write_text(PROVIDERS + text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return path, str(caught.value)


def test_a_valid_section_loads() -> None:
    config = load_config(
        {
            "providers": {
                "openai": {
                    "kind": "openai",
                    "prices": {"gpt-4o-mini": {"input": 1, "output": 2}},
                    "default_model": "gpt-4o-mini",
                }
            },
            "budgets": [
                {"provider": "openai", "per_day": 5, "per_month": 100},
                {"route": "default", "per_month": 300, "name": "everything"},
                {"scope": "*", "per_day": 1, "timezone": "Europe/Berlin"},
            ],
            "defaults": {
                "budgets": {"store": "redis://:pw@127.0.0.1:6379/3", "timezone": "Asia/Tokyo"}
            },
        }
    )
    labels = [(b.label, b.level, b.caps()) for b in config.budgets]
    assert labels == [
        ("provider openai", "provider", [("day", 5.0), ("month", 100.0)]),
        ("everything", "route", [("month", 300.0)]),
        ("scope *", "scope", [("day", 1.0)]),
    ]
    settings = config.defaults.budgets
    assert settings.timezone == "Asia/Tokyo" and settings.default_output_tokens == 4096
    assert "pw" not in repr(settings) and "pw" not in str(config.model_dump())


def test_each_entry_problem_names_its_line_and_key_path(tmp_path: Path) -> None:
    path, message = load(
        tmp_path,
        """\
budgets:
  - provider: openai
    route: default
    per_day: 1
  - scope: tenant-a
  - scope: tenant-b
    per_day: -2
  - provider: openai
    per_month: 3
    timezone: Mars/Olympus
    per_week: 4
""",
    )
    lines = message.splitlines()
    assert lines[0].startswith(f"{path}:14 budgets[0]: a budget covers exactly one of provider")
    assert "(this one names provider, route)" in lines[0]
    assert f"{path}:17 budgets[1]: a budget needs per_day, per_month or both (USD)" in message
    assert f"{path}:19 budgets[2].per_day" in message
    assert f"{path}:22 budgets[3].timezone: unknown time zone 'Mars/Olympus'" in message
    assert f"{path}:23 budgets[3].per_week" in message


def test_budgets_are_checked_against_providers_routes_and_prices(tmp_path: Path) -> None:
    path, message = load(
        tmp_path,
        """\
budgets:
  - provider: opnai
    per_day: 1
  - route: code_generation
    per_day: 1
  - route: cod_generation
    per_day: 1
  - provider: local
    per_day: 1
  - scope: "*"
    per_month: 10
""",
    )
    assert (
        f"{path}:14 budgets[0].provider: unknown provider 'opnai' (did you mean 'openai'?)"
        in message
    )
    assert (
        f"{path}:16 budgets[1].route: no route 'code_generation' is configured: its calls "
        "are served by the default route" in message
    )
    assert "(did you mean 'code_generation'?)" in message
    # A cost that cannot be estimated cannot be checked against a cap.
    assert (
        f"{path}:20 budgets[3].provider: model 'llama' of provider 'local' has no price, so "
        "the budget 'provider local' cannot be checked: add providers.local.prices[\"llama\"]"
        in message
    )
    # The default route sends to local too: a scope's calls could go there.
    assert f"{path}:22 budgets[4].scope: model 'llama' of provider 'local' has no price" in message


def test_the_store_is_memory_or_a_redis_url_whose_password_never_shows(tmp_path: Path) -> None:
    path, message = load(tmp_path, "defaults:\n  budgets:\n    store: memroy\n")
    assert f"{path}:15 defaults.budgets.store" in message
    assert "unknown budget store 'memroy'" in message and "(did you mean 'memory'?)" in message
    _, message = load(tmp_path, "defaults:\n  budgets:\n    store: http://u:hunter2@host/0\n")
    assert "unknown budget store scheme 'http://'" in message and "hunter2" not in message
    _, message = load(tmp_path, "defaults:\n  budgets:\n    timezone: Moon/Base\n")
    assert "defaults.budgets.timezone: unknown time zone 'Moon/Base'" in message


async def test_the_store_comes_from_the_settings() -> None:
    assert isinstance(store_from_settings(BudgetSettings()), MemoryBudgetStore)
    from llm_dispatch.budgets.redis_store import RedisBudgetStore

    store = store_from_settings(
        BudgetSettings(store="redis://127.0.0.1:6379/0", namespace="app:budget")
    )
    assert isinstance(store, RedisBudgetStore) and store.namespace == "app:budget"
    await store.aclose()
