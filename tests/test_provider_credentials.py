"""One credential rule: the configuration, the router, the dispatcher and the provider classes
all say the same about whether a provider has a key, and why not."""

from __future__ import annotations

from typing import Any

import pytest

from llm_dispatch import Dispatcher
from llm_dispatch.providers import PROVIDER_KINDS, disabled_reason, provider_class
from llm_dispatch.providers.base import ProviderSettings
from llm_dispatch.providers.credentials import (
    API_KEY_ENV_VARS,
    BASE_URL_ENV_VARS,
    KEYLESS_WITH_BASE_URL,
)
from llm_dispatch.request import Request
from llm_dispatch.routing import Router
from llm_dispatch.settings import models
from llm_dispatch.settings.loader import load_config
from llm_dispatch.settings.models import ProviderConfig
from llm_dispatch.testing import FakeProviderServer

pytestmark = pytest.mark.usefixtures("clean_provider_env")

LOCAL = "http://127.0.0.1:11434/v1"

# (kind, api_key, base_url, environment, has credentials)
CASES: list[tuple[str, str | None, str | None, dict[str, str], bool]] = [
    ("openai", None, None, {}, False),
    ("openai", "sk-configured", None, {}, True),
    ("openai", None, None, {"OPENAI_API_KEY": "sk-env"}, True),
    ("openai", None, None, {"OPENAI_API_KEY": ""}, False),
    # An OpenAI-compatible server: no key needed, a placeholder is sent.
    ("openai", None, LOCAL, {}, True),
    ("anthropic", None, None, {}, False),
    ("anthropic", "sk-ant-configured", None, {}, True),
    ("anthropic", None, None, {"ANTHROPIC_API_KEY": "sk-ant-env"}, True),
    ("anthropic", None, None, {"ANTHROPIC_AUTH_TOKEN": "token-env"}, True),
    # A base_url is a key only for OpenAI-compatible servers.
    ("anthropic", None, LOCAL, {}, False),
    ("google", None, None, {}, False),
    ("google", None, None, {"GEMINI_API_KEY": "AIza-env"}, True),
    ("google", None, None, {"GOOGLE_API_KEY": "AIza-env"}, True),
    ("google", None, LOCAL, {}, False),
]


@pytest.mark.parametrize(("kind", "api_key", "base_url", "environ", "usable"), CASES)
async def test_every_caller_applies_the_same_rule(
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    api_key: str | None,
    base_url: str | None,
    environ: dict[str, str],
    usable: bool,
) -> None:
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    name = f"my-{kind}"
    entry = {"kind": kind, "api_key": api_key, "base_url": base_url, "default_model": "m"}
    config = load_config({"providers": {name: entry}}, environ={})
    settings = config.provider_settings(name)
    expected = (
        None
        if usable
        else f"disabled: no API key (set {' or '.join(API_KEY_ENV_VARS[kind])} or "
        f"providers.{name}.api_key)"
    )

    assert provider_class(kind).has_credentials(settings) is usable
    assert disabled_reason(settings) == expected
    assert config.providers[name].disabled_reason(name) == expected
    assert config.providers[name].disabled_reason(name, environ=environ) == expected
    assert Router(config).disabled_reason(name) == expected
    dispatcher = Dispatcher(config, fake=False)
    try:
        assert dispatcher.router.disabled_reason(name) == expected
    finally:
        await dispatcher.aclose()


def test_the_tables_cover_every_sdk_kind() -> None:
    assert set(API_KEY_ENV_VARS) == set(BASE_URL_ENV_VARS) == set(PROVIDER_KINDS)
    assert set(PROVIDER_KINDS) >= KEYLESS_WITH_BASE_URL
    for kind in PROVIDER_KINDS:
        assert provider_class(kind).credential_env_vars == API_KEY_ENV_VARS[kind]
    # The configuration models name the same tables.
    assert models.API_KEY_ENV_VARS is API_KEY_ENV_VARS
    assert models.BASE_URL_ENV_VARS is BASE_URL_ENV_VARS


def test_a_function_provider_needs_no_key() -> None:
    assert ProviderConfig(kind="function").disabled_reason("function", environ={}) is None
    assert disabled_reason(ProviderSettings(name="function", kind="function")) is None


# -- each provider class, through its SDK -----------------------------------------------------

# (kind, configured api_key, the variable the reason names, a variable that supplies a key)
KEY_SOURCES = [
    ("openai", "sk-x", "OPENAI_API_KEY", "OPENAI_API_KEY"),
    ("anthropic", "sk-ant-x", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
    ("google", "AIza-x", "GEMINI_API_KEY", "GOOGLE_API_KEY"),
]


@pytest.mark.parametrize(("kind", "api_key", "named", "variable"), KEY_SOURCES)
def test_has_credentials_from_settings_or_environment(
    monkeypatch: pytest.MonkeyPatch, kind: str, api_key: str, named: str, variable: str
) -> None:
    cls = provider_class(kind)
    bare = ProviderSettings(name=kind, kind=kind)
    assert not cls.has_credentials(bare)
    assert named in (disabled_reason(bare) or "")

    assert cls.has_credentials(ProviderSettings(name=kind, kind=kind, api_key=api_key))

    monkeypatch.setenv(variable, "key-from-env-0123456789")
    assert cls.has_credentials(bare)
    assert disabled_reason(bare) is None


# (kind, the key variable set, its value, the header it must arrive in, the header's value)
ENVIRONMENT_KEYS = [
    (
        "openai",
        "OPENAI_API_KEY",
        "sk-from-env-0123456789",
        "authorization",
        "Bearer sk-from-env-0123456789",
    ),
    # This SDK generation sends API keys as a bearer token, not as x-api-key.
    (
        "anthropic",
        "ANTHROPIC_API_KEY",
        "sk-ant-from-env-0123456789",
        "authorization",
        "Bearer sk-ant-from-env-0123456789",
    ),
    (
        "google",
        "GEMINI_API_KEY",
        "AIzaFromEnv0123456789abcdefghij",
        "x-goog-api-key",
        "AIzaFromEnv0123456789abcdefghij",
    ),
    (
        "google",
        "GOOGLE_API_KEY",
        "AIzaFromEnv0123456789abcdefghij",
        "x-goog-api-key",
        "AIzaFromEnv0123456789abcdefghij",
    ),
]


@pytest.mark.parametrize(("kind", "variable", "key", "header", "sent"), ENVIRONMENT_KEYS)
async def test_environment_supplies_key_and_endpoint(
    fake_server: FakeProviderServer,
    collect: Any,
    sent_headers: Any,
    say_hi: Request,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    variable: str,
    key: str,
    header: str,
    sent: str,
) -> None:
    monkeypatch.setenv(variable, key)
    monkeypatch.setenv(BASE_URL_ENV_VARS[kind], fake_server.base_url_for(kind))
    provider = provider_class(kind)(ProviderSettings(name=kind, kind=kind))
    try:
        outcome = await collect(provider, say_hi, "test-model")
    finally:
        await provider.aclose()

    assert outcome.error is None
    assert sent_headers()[header] == sent
