"""Configuration: interpolation, resolution, defaults, and errors that point at the line."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from llm_dispatch.cache import CacheOptions, StreamingCache
from llm_dispatch.errors import ConfigError, InterpolationSyntaxError, UnresolvedVariable
from llm_dispatch.policies.circuit import RedisCircuitStore, store_from_settings
from llm_dispatch.policies.overrides import merge_policy
from llm_dispatch.providers import create_provider
from llm_dispatch.providers.base import Provider, ProviderSettings
from llm_dispatch.redaction import redact
from llm_dispatch.request import Message, Request
from llm_dispatch.settings import parsing
from llm_dispatch.settings.capabilities import family_of, resolve_capabilities
from llm_dispatch.settings.interpolation import interpolate
from llm_dispatch.settings.loader import (
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_PATH,
    default_config_path,
    load_config,
)
from llm_dispatch.settings.models import (
    CircuitSettings,
    DispatchConfig,
    PolicySettings,
    ProviderConfig,
    RouteTarget,
    TimeoutSettings,
)
from llm_dispatch.testing import FakeProviderServer, Script
from llm_dispatch.urls import SecretUrl, parse_ipv4

REPO = Path(__file__).resolve().parents[1]
SDK_VARIABLES = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "GOOGLE_GEMINI_BASE_URL",
)


def write(tmp_path: Path, text: str, name: str = "dispatch.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(source: Any, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(source, environ=environ or {})
    return info.value


# -- interpolation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("${HOST}", "example.org"),
        ("https://${HOST}:${PORT:-443}/v1", "https://example.org:443/v1"),
        ("${MISSING:-fallback}", "fallback"),
        ("${MISSING:-}", ""),
        ("${EMPTY:-used when empty}", "used when empty"),
        ("${EMPTY}", ""),
        ("$${HOST} is literal", "${HOST} is literal"),
        ("cost $5", "cost $5"),
    ],
)
def test_interpolate(text: str, expected: str) -> None:
    assert interpolate(text, {"HOST": "example.org", "EMPTY": ""}) == expected


def test_interpolate_unset_variable_names_it() -> None:
    with pytest.raises(UnresolvedVariable, match=r"MISSING is not set") as info:
        interpolate("x-${MISSING}", {})
    assert info.value.name == "MISSING"


@pytest.mark.parametrize("text", ["${", "${1ABC}", "${A-b}", "${UNCLOSED", "${A:b}"])
def test_interpolate_malformed(text: str) -> None:
    with pytest.raises(InterpolationSyntaxError, match="malformed reference"):
        interpolate(text, {"A": "1"})


def test_file_values_are_interpolated_before_validation(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        providers:
          vllm:
            kind: openai
            base_url: http://${VLLM_HOST:-127.0.0.1}:${VLLM_PORT}/v1
            api_key: ${VLLM_KEY:-EMPTY}
            models: [qwen]
        defaults:
          retry: {max_retries: "${RETRIES:-4}"}
        """,
    )
    config = load_config(path, environ={"VLLM_PORT": "8000"})
    vllm = config.providers["vllm"]
    assert vllm.base_url == "http://127.0.0.1:8000/v1"
    assert vllm.api_key is not None and vllm.api_key.get_secret_value() == "EMPTY"
    assert config.defaults.retry.max_retries == 4  # "4" became an int


def test_dict_sources_are_interpolated_too() -> None:
    config = load_config(
        {"providers": {"openai": {"kind": "openai", "default_model": "${MODEL}"}}},
        environ={"MODEL": "gpt-4o"},
    )
    assert config.providers["openai"].default_model == "gpt-4o"


# -- built-in defaults, resolution order, equivalent sources --------------------------------


def test_builtin_defaults() -> None:
    config = DispatchConfig()
    assert list(config.providers) == ["openai", "anthropic", "google", "function"]
    assert [config.providers[n].resolved_model() for n in config.providers] == [
        "gpt-4o-mini",
        "claude-sonnet-4-5",
        "gemini-2.5-flash",
        "body",
    ]
    assert all(config.providers[n].api_key is None for n in ("openai", "anthropic", "google"))
    default = config.routes["default"]
    assert default.strategy == "priority"
    assert [t.label for t in default.targets] == ["openai", "anthropic", "google"]
    assert config.defaults == PolicySettings()
    assert config.providers["openai"].price_for("gpt-4o-mini") is not None


def test_repo_dispatch_yaml_matches_the_builtin_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SDK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    loaded = load_config(REPO / "config" / "dispatch.yaml", environ={})
    builtin = DispatchConfig()
    assert loaded.providers == builtin.providers
    assert loaded.routes == builtin.routes
    assert loaded.defaults == builtin.defaults
    assert (loaded.cache, loaded.embedding) == (None, None)
    for name in ("openai", "anthropic", "google"):
        assert loaded.providers[name].config_disabled_reason(name) is None


def test_resolution_env_variable_then_cwd_file_then_builtin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    assert load_config() == DispatchConfig()
    assert default_config_path() is None

    (tmp_path / "config").mkdir()
    write(tmp_path / "config", "defaults: {fallback: false}\n")
    assert load_config().defaults.fallback is False
    assert default_config_path() == DEFAULT_CONFIG_PATH

    named = write(tmp_path, "defaults: {mid_stream: continue}\n", name="other.yaml")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(named))
    assert default_config_path() == named
    config = load_config()
    assert config.defaults.mid_stream == "continue"
    assert config.defaults.fallback is True  # the cwd file was not read

    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match=f"{CONFIG_ENV_VAR} names a configuration file"):
        load_config()


def test_file_dict_and_model_sources_agree(tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "providers": {
            "anthropic": {"kind": "anthropic", "default_model": "claude-haiku-4-5"},
            "vllm": {"kind": "openai", "base_url": "http://127.0.0.1:8000/v1", "models": ["q"]},
        },
        "routes": {"code_generation": {"strategy": "cost", "targets": ["vllm/q", "anthropic"]}},
        "defaults": {"retry": {"max_retries": 0}, "timeouts": {"total": 120}},
    }
    import yaml

    path = tmp_path / "dispatch.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    from_file = load_config(path, environ={})
    from_dict = load_config(data, environ={})
    model = DispatchConfig.model_validate(data)
    assert from_file == from_dict == model
    assert load_config(model) is model
    assert list(from_dict.routes) == ["code_generation", "default"]
    # implicit: every provider in declaration order
    assert [t.label for t in from_dict.routes["default"].targets] == ["anthropic", "vllm"]


def test_empty_file_is_the_builtin_configuration(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing yet\n"), environ={}) == DispatchConfig()


def test_cache_and_embedding_sections_are_validated_with_file_and_line(tmp_path: Any) -> None:
    config = load_config(
        {
            "cache": {"backend": "memory", "similarity_threshold": 0.9},
            "embedding": {"target": "punctuation", "hmac_key": "k" * 16},
        },
        environ={},
    )
    assert config.cache is not None and config.cache.similarity_threshold == 0.9
    assert config.embedding is not None and config.embedding.target.value == "punctuation"

    path = tmp_path / "dispatch.yaml"
    path.write_text("cache:\n  similarity_threshold: 0.9\nembedding:\n  taget: whitespace\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "dispatch.yaml:4" in str(info.value) and "embedding.taget" in str(info.value)

    path.write_text("cache:\n  similarity_threshold: 1.5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "dispatch.yaml:2" in str(info.value)
    assert "cache.similarity_threshold" in str(info.value)


# -- models ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "provider", "model"),
    [
        ("openai", "openai", None),
        ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
        ("vllm/Qwen/Qwen2.5-7B-Instruct", "vllm", "Qwen/Qwen2.5-7B-Instruct"),
        (
            {"provider": "google", "model": "gemini-2.5-pro", "weight": 2},
            "google",
            "gemini-2.5-pro",
        ),
    ],
)
def test_route_target_forms(written: Any, provider: str, model: str | None) -> None:
    target = RouteTarget.model_validate(written)
    assert (target.provider, target.model) == (provider, model)


def test_provider_timeouts_override_only_the_keys_written() -> None:
    config = load_config(
        {
            "providers": {
                "vllm": {
                    "kind": "openai",
                    "api_key": "EMPTY",
                    "models": ["q"],
                    "timeouts": {"connect": 2, "first_token": None},
                }
            },
            "defaults": {"timeouts": {"idle": 15}},
        },
        environ={},
    )
    assert config.timeouts_for("vllm") == TimeoutSettings(
        connect=2, first_token=None, idle=15, total=None
    )
    settings = config.provider_settings("vllm")
    assert (settings.name, settings.kind, settings.connect_timeout) == ("vllm", "openai", 2)
    assert settings.default_model == "q"
    assert config.timeouts_for("function") == config.defaults.timeouts


def test_api_keys_are_secret() -> None:
    config = load_config(
        {"providers": {"openai": {"kind": "openai", "api_key": "sk-live-very-secret-123456"}}},
        environ={},
    )
    provider = config.providers["openai"]
    assert "sk-live-very-secret" not in repr(provider)
    assert "sk-live-very-secret" not in repr(config.provider_settings("openai"))
    assert "sk-live-very-secret" not in str(config.model_dump())


def test_an_error_never_shows_the_api_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        providers:
          openai:
            kind: openai
            api_key: [sk-live-very-secret-123456]
        """,
    )
    err = load_error(path)
    assert err.path == "providers.openai.api_key"
    assert "sk-live-very-secret" not in str(err)


def test_unset_variable_in_api_key_disables_only_that_provider(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        providers:
          openai:
            kind: openai
            api_key: ${TEST_CONFIG_OPENAI_KEY}
            default_model: gpt-4o-mini
          anthropic:
            kind: anthropic
            api_key: ${TEST_CONFIG_ANTHROPIC_KEY}
            default_model: claude-sonnet-4-5
        """,
    )
    config = load_config(path, environ={"TEST_CONFIG_ANTHROPIC_KEY": "sk-ant-0000000000"})
    openai = config.providers["openai"]
    assert openai.api_key is None
    assert openai.config_disabled_reason("openai") == (
        "disabled: no API key (providers.openai.api_key names ${TEST_CONFIG_OPENAI_KEY}, "
        "which is not set)"
    )
    assert openai.disabled_reason("openai", environ={"OPENAI_API_KEY": "sk-x"}) is not None
    assert config.providers["anthropic"].disabled_reason("anthropic", environ={}) is None


def test_sdk_variables_enable_providers_without_api_key() -> None:
    google = ProviderConfig(kind="google", default_model="gemini-2.5-flash")
    assert google.disabled_reason("google", environ={"GOOGLE_API_KEY": "k"}) is None
    assert google.disabled_reason("google", environ={"GEMINI_API_KEY": "k"}) is None
    assert google.disabled_reason("google", environ={}) == (
        "disabled: no API key (set GEMINI_API_KEY or GOOGLE_API_KEY or providers.google.api_key)"
    )
    assert ProviderConfig(kind="function").disabled_reason("function", environ={}) is None


def test_policy_models_validate_ranges() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        TimeoutSettings(first_token=0)
    assert TimeoutSettings(first_token=None).first_token is None
    with pytest.raises(ValueError, match="unknown circuit store 'memcache'"):
        CircuitSettings(store="memcache")
    store = CircuitSettings(store="rediss://cache.internal:6380/1").store
    assert isinstance(store, SecretUrl) and store.scheme == "rediss"
    assert store.get_secret_value() == "rediss://cache.internal:6380/1"


# -- errors: file, line, key path ------------------------------------------------------------


ROUTE_TYPO = """
providers:
  openai:
    kind: openai
    default_model: gpt-4o-mini
  anthropic:
    kind: anthropic
    default_model: claude-sonnet-4-5
  google:
    kind: google
    default_model: gemini-2.5-flash
routes:
  code_generation:
    - openai
    - antropic/claude-sonnet-4-5
"""


def test_unknown_provider_in_route_names_file_line_path_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTE_TYPO)
    err = load_error(path)
    assert (err.source, err.line, err.path) == (str(path), 14, "routes.code_generation[1]")
    assert str(err) == (
        f"{path}:14 routes.code_generation[1]: "
        "unknown provider 'antropic' (did you mean 'anthropic'?)"
    )


def test_mapping_form_route_reports_the_targets_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        providers:
          openai: {kind: openai, default_model: gpt-4o-mini}
        routes:
          default:
            strategy: cost
            targets:
              - openai
              - {provider: opnai, model: gpt-4o}
        """,
    )
    err = load_error(path)
    assert (err.line, err.path) == (8, "routes.default.targets[1]")
    assert "unknown provider 'opnai' (did you mean 'openai'?)" in str(err)


@pytest.mark.parametrize(
    ("yaml_text", "line", "path", "message"),
    [
        (
            """
            defaults:
              retry:
                max_retrie: 3
            """,
            3,
            "defaults.retry.max_retrie",
            "unknown key 'max_retrie' (did you mean 'max_retries'?)",
        ),
        (
            """
            defaults:
              retry:
                backoff_base: 0.1
                max_retries: many
            """,
            4,
            "defaults.retry.max_retries",
            "input should be a valid integer",
        ),
        (
            """
            providers:
              openai:
                kind: opneai
            """,
            3,
            "providers.openai.kind",
            "'opneai' is not one of 'openai', 'anthropic', 'google', 'function', "
            "'azure_openai', 'google_vertex', 'anthropic_vertex' or 'anthropic_bedrock' "
            "(did you mean 'openai'?)",
        ),
        (
            """
            providers:
              openai:
                default_model: gpt-4o
            """,
            2,
            "providers.openai.kind",
            "missing required key 'kind'",
        ),
        (
            """
            routes:
              code_generaton: [openai]
            """,
            2,
            "routes.code_generaton",
            "unknown task type 'code_generaton' (did you mean 'code_generation'?)",
        ),
        (
            """
            providers:
              vllm:
                kind: openai
                models: [qwen-7b, llama-8b]
            routes:
              default:
                - vllm/qwen-8b
            """,
            7,
            "routes.default[0]",
            "model 'qwen-8b' is not in providers.vllm.models ['qwen-7b', 'llama-8b'] "
            "(did you mean 'qwen-7b'?)",
        ),
        (
            """
            providers:
              vllm:
                kind: openai
                models: [qwen-7b]
                default_model: qwen-7c
            """,
            5,
            "providers.vllm.default_model",
            "default_model 'qwen-7c' is not in models ['qwen-7b'] (did you mean 'qwen-7b'?)",
        ),
        (
            """
            providers:
              vllm:
                kind: openai
                models: [qwen-7b]
                prices:
                  "qwen-7b.1": {input: 0, output: 0}
            """,
            6,
            'providers.vllm.prices["qwen-7b.1"]',
            "price for 'qwen-7b.1', which is not in models ['qwen-7b']",
        ),
        (
            """
            providers:
              local:
                kind: openai
            routes:
              default: [local]
            """,
            5,
            "routes.default[0]",
            "provider 'local' has no default_model or models: write 'local/<model>'",
        ),
        (
            """
            routes:
              default: [openai, anthropic, openai]
            """,
            2,
            "routes.default[2]",
            "duplicate target 'openai/gpt-4o-mini' (already at [0])",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                base_url: ${OPENAI_TEST_URL}
            """,
            4,
            "providers.openai.base_url",
            "environment variable OPENAI_TEST_URL is not set",
        ),
        (
            """
            defaults:
              circuit:
                store: ${REDIS_URL
            """,
            3,
            "defaults.circuit.store",
            "malformed reference",
        ),
        (
            """
            defaults:
              timeouts: {first_token: 0}
            """,
            2,
            "defaults.timeouts.first_token",
            "input should be greater than 0",
        ),
        (
            """
            provider:
              openai: {kind: openai}
            """,
            1,
            "provider",
            "unknown key 'provider' (did you mean 'providers'?)",
        ),
        (
            """
            providers:
              function: {kind: openai}
            """,
            2,
            "providers.function.kind",
            "the name 'function' is reserved",
        ),
    ],
)
def test_errors_carry_file_line_and_key_path(
    tmp_path: Path, yaml_text: str, line: int, path: str, message: str
) -> None:
    file = write(tmp_path, yaml_text)
    err = load_error(file)
    assert (err.line, err.path) == (line, path), str(err)
    assert str(err).startswith(f"{file}:{line} {path}: ")
    assert message in str(err)


@pytest.mark.parametrize(
    ("yaml_text", "line", "path", "message"),
    [
        (
            """
            providers:
              openai:
                kind: openai
                capabilities:
                  gpt-4o: {modalities: [text, video]}
            """,
            5,
            "providers.openai.capabilities.gpt-4o.modalities[1]",
            "'video' is not one of 'text', 'image', 'audio' or 'document'",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                capabilities:
                  "gpt-4.1":
                    modalities: [image]
            """,
            6,
            'providers.openai.capabilities["gpt-4.1"].modalities',
            "modalities must include 'text' (every request sends text)",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                capabilities:
                  gpt-4o:
                    context_window: 0
            """,
            6,
            "providers.openai.capabilities.gpt-4o.context_window",
            "input should be greater than 0",
        ),
        (
            """
            providers:
              openai:
                kind: openai
                capabilities:
                  gpt-4o: {context_windw: 128000}
            """,
            5,
            "providers.openai.capabilities.gpt-4o.context_windw",
            "unknown key 'context_windw' (did you mean 'context_window'?)",
        ),
        (
            """
            providers:
              vllm:
                kind: openai
                models: [qwen-7b]
                capabilities:
                  qwen-7c: {context_window: 32768}
            """,
            6,
            "providers.vllm.capabilities.qwen-7c",
            "capabilities for 'qwen-7c', which is not in models ['qwen-7b'] "
            "(did you mean 'qwen-7b'?)",
        ),
        (
            """
            providers:
              function:
                kind: function
                capabilities: {body: {modalities: [text]}}
            """,
            4,
            "providers.function.capabilities",
            "a provider of kind 'function' takes no capabilities",
        ),
        (
            """
            routes:
              code_generation:
                - provider: openai
                  options:
                    sed: 7
            """,
            5,
            "routes.code_generation[0].options.sed",
            "unknown option 'sed' for provider 'openai' (kind openai) (did you mean 'seed'?); "
            "it takes: extra_body, extra_headers, extra_query, frequency_penalty, logit_bias, "
            "logprobs, metadata, presence_penalty, reasoning_effort, seed, service_tier, store, "
            "top_logprobs, top_p, user",
        ),
        (
            """
            routes:
              default:
                targets:
                  - openai
                  - {provider: anthropic, options: {top_p: 0.9, seed: 1}}
            """,
            5,
            "routes.default.targets[1].options.seed",
            "unknown option 'seed' for provider 'anthropic' (kind anthropic); it takes: "
            "cache_control, extra_body, extra_headers, extra_query, metadata, service_tier, "
            "top_k, top_p",
        ),
        (
            """
            routes:
              default:
                - openai
                - {provider: function, options: {seed: 1}}
            """,
            4,
            "routes.default[1].options",
            "the function provider (the decorated body) takes no options",
        ),
        (
            """
            routes:
              default:
                - {provider: openai, options: {seed: 1, extra_headers: {X-Tenant: acme-9f2}}}
            """,
            3,
            "routes.default[0].options.extra_headers",
            "'extra_headers' is not allowed in a route target's options: put headers in "
            "providers.openai.extra_headers, whose values are kept secret",
        ),
        (
            """
            defaults:
              fallback_on: [context_length, content_filtr]
            """,
            2,
            "defaults.fallback_on[1]",
            "'content_filtr' is not one of 'context_length' or 'content_filter' "
            "(did you mean 'content_filter'?)",
        ),
    ],
)
def test_capability_option_and_fallback_on_errors_carry_file_line_and_key_path(
    tmp_path: Path, yaml_text: str, line: int, path: str, message: str
) -> None:
    file = write(tmp_path, yaml_text)
    err = load_error(file)
    assert (err.line, err.path) == (line, path), str(err)
    assert str(err).startswith(f"{file}:{line} {path}: ")
    assert message in str(err)
    assert "acme-9f2" not in str(err)  # a header value is never quoted


def test_capabilities_options_and_fallback_on_load_from_a_file(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        """
        providers:
          vllm:
            kind: openai
            base_url: http://127.0.0.1:8000/v1
            models: [qwen-vl]
            capabilities:
              qwen-vl: {modalities: [image, text, image], context_window: 32768}
        routes:
          default:
            - {provider: vllm, options: {seed: 7, extra_body: {top_k: 20}}}
        defaults:
          fallback_on: [content_filter, context_length]
        """,
    )
    config = load_config(file, environ={})
    entry = config.providers["vllm"].capabilities["qwen-vl"]
    assert (entry.modalities, entry.context_window) == (("text", "image"), 32768)
    assert config.routes["default"].targets[0].options == {"seed": 7, "extra_body": {"top_k": 20}}
    assert config.defaults.fallback_on == ("content_filter", "context_length")
    assert PolicySettings().fallback_on == ()
    overridden = merge_policy(config.defaults, {"fallback_on": ["context_length"]})
    assert overridden.fallback_on == ("context_length",)


def test_builtin_capabilities_are_what_the_family_table_gives_their_names() -> None:
    config = DispatchConfig()
    seen = 0
    for provider in config.providers.values():
        for model, entry in provider.capabilities.items():
            family = family_of(provider.kind, model)
            assert family is not None, model
            assert entry.modalities is not None
            assert (frozenset(entry.modalities), entry.context_window) == (
                family.modalities,
                family.context_window,
            ), model
            assert set(provider.capabilities) == set(provider.prices)
            seen += 1
    assert seen == 10
    openai = config.providers["openai"]
    assert openai.capabilities_for("gpt-4o-mini-audio-preview-2024-12-17").modalities == {
        "text",
        "audio",
    }
    assert openai.capabilities_for("gpt-4o-2024-08-06").context_window == 128_000
    assert config.providers["google"].capabilities_for("gemini-2.0-flash").modalities == {
        "text",
        "image",
        "audio",
        "document",
    }
    unknown = openai.capabilities_for("text-davinci-003")
    assert (unknown.modalities, unknown.context_window) == ({"text"}, None)
    assert resolve_capabilities("function", "body").modalities == {
        "text",
        "image",
        "audio",
        "document",
    }


def test_several_problems_are_all_reported_in_file_order(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        """
        defaults:
          retry:
            jitter: 2
          timeouts:
            idel: 3
        """,
    )
    err = load_error(file)
    assert (err.line, err.path) == (3, "defaults.retry.jitter")
    assert f"\n  also {file}:5 defaults.timeouts.idel: unknown key 'idel'" in str(err)


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        """
        providers:
          openai:
            kind: openai
           base_url: http://x
        """,
    )
    err = load_error(file)
    assert (err.source, err.line) == (str(file), 4)
    assert str(err).startswith(f"{file}:4: invalid YAML: ")


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        """
        defaults:
          fallback: true
          mid_stream: raise
          fallback: false
        """,
    )
    err = load_error(file)
    assert (err.line, err.path) == (4, "defaults.fallback")
    assert "duplicate key 'fallback' (first on line 2)" in str(err)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, "- openai\n- anthropic\n"))
    assert err.line == 1 and "top level must be a mapping" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    err = load_error(tmp_path / "absent.yaml")
    assert str(err) == f"{tmp_path / 'absent.yaml'}: configuration file not found"


def test_dict_errors_carry_the_key_path_without_a_file() -> None:
    err = load_error({"routes": {"code_generation": ["openai", "antropic"]}})
    assert (err.source, err.line) == (None, None)
    assert str(err) == (
        "routes.code_generation[1]: unknown provider 'antropic' (did you mean 'anthropic'?)"
    )


def test_secrets_stay_out_of_reprs_and_validation_errors() -> None:
    settings = CircuitSettings(store="redis://:hunter2-password@cache:6379/0")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(PolicySettings(circuit=settings))
    assert "redis://:***@cache:6379/0" in repr(settings)
    err = load_error({"defaults": {"circuit": {"store": "redi://:hunter2-password@cache"}}})
    assert "hunter2" not in str(err) and "unknown circuit store scheme 'redi://'" in str(err)
    with pytest.raises(ValueError) as info:  # pydantic's own message, without the loader
        ProviderConfig(kind="openai", api_key=["sk-live-very-secret-123456"])  # type: ignore[arg-type]
    assert "sk-live-very-secret" not in str(info.value)


def test_a_dump_validates_back_to_the_same_configuration() -> None:
    config = load_config(
        {
            "providers": {
                "openai": {
                    "kind": "openai",
                    "api_key": "sk-test-0000000000",
                    "default_model": "gpt-4o",
                    "timeouts": {"first_token": None},  # explicit null: switched off
                }
            }
        },
        environ={},
    )
    again = DispatchConfig.model_validate(config.model_dump())
    assert again == config
    assert again.timeouts_for("openai").first_token is None
    assert again.timeouts_for("openai").idle == 60


# -- size bounds: alias bombs, recursion, nesting --------------------------------------------


def alias_bomb(levels: int) -> str:
    """``levels`` anchors, each a list of nine aliases of the one before: 10**levels values."""
    names = "abcdefghijklmnopqrstuvwxyz"
    rows = [f"a: &a [{', '.join('x' * 9)}]"]
    for i in range(1, levels):
        rows.append(f"{names[i]}: &{names[i]} [{', '.join(['*' + names[i - 1]] * 9)}]")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("levels", [6, 7, 9])
def test_an_alias_bomb_is_refused_at_the_line_that_crosses_the_limit(
    tmp_path: Path, levels: int
) -> None:
    path = write(tmp_path, alias_bomb(levels))
    assert path.stat().st_size < 400
    start = time.perf_counter()
    err = load_error(path)
    elapsed = time.perf_counter() - start
    # Line 6 holds nine aliases of line 5's 66 430 values: the first one crosses 100 000.
    assert (err.source, err.line) == (str(path), 6)
    assert f"expands to more than {parsing.MAX_CONFIG_VALUES} values" in str(err)
    assert elapsed < 2.0  # generous: the refusal itself takes about a millisecond


def test_every_use_of_an_alias_counts_towards_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        """
        providers:
          vllm: &local
            kind: openai
            models: [q]
          ollama: *local
        """,
    )
    # The top-level mapping, "providers", its mapping, "vllm", vllm's mapping (6 values: the
    # mapping, "kind", "openai", "models", the list, "q"), "ollama", then the alias, which
    # counts the 6 values of vllm's mapping again: 17 in all.
    monkeypatch.setattr(parsing, "MAX_CONFIG_VALUES", 17)
    config = load_config(path, environ={})
    assert config.providers["ollama"].models == ["q"]

    monkeypatch.setattr(parsing, "MAX_CONFIG_VALUES", 16)
    err = load_error(path)
    assert (err.source, err.line) == (str(path), 5)
    assert "expands to more than 16 values" in str(err)


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        defaults: &d
          retry: {max_retries: 1}
          circuit: *d
        """,
    )
    err = load_error(path)
    assert (err.source, err.line) == (str(path), 3)
    assert "recursive alias *d" in str(err)


def test_deep_nesting_is_refused_also_when_aliases_build_it(tmp_path: Path) -> None:
    written = write(tmp_path, "defaults: " + "[" * 100 + "]" * 100 + "\n")
    err = load_error(written)
    assert (err.source, err.line) == (str(written), 1)
    assert f"nested more than {parsing.MAX_CONFIG_DEPTH} levels deep" in str(err)

    # Each anchor wraps the previous one in a list: few values, but 70 levels once expanded.
    rows = ["l0: &l0 [x]", *(f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 70))]
    chained = write(tmp_path, "\n".join(rows) + "\n", name="chained.yaml")
    err = load_error(chained)
    # l62 is at level 2 and holds 63 levels: the alias inside it reaches level 65.
    assert (err.source, err.line) == (str(chained), 63)
    assert f"nested more than {parsing.MAX_CONFIG_DEPTH} levels deep" in str(err)


def test_mapping_sources_sharing_references_are_bounded_too() -> None:
    level: Any = ["x"] * 9
    for _ in range(8):  # nine levels of nine shared references: 10**9 values
        level = [level] * 9
    start = time.perf_counter()
    err = load_error({"providers": {"p": {"kind": "openai", "models": level}}})
    assert time.perf_counter() - start < 2.0
    assert err.source is None and err.path is not None
    assert err.path.startswith("providers.p.models[")
    assert f"expands to more than {parsing.MAX_CONFIG_VALUES} values" in str(err)

    provider: dict[str, Any] = {"kind": "openai"}
    provider["timeouts"] = provider
    err = load_error({"providers": {"p": provider}})
    assert err.path == "providers.p.timeouts"
    assert "contains itself" in str(err)

    nested: Any = "x"
    for _ in range(100):
        nested = [nested]
    err = load_error({"embedding": {"fields": {"deep": nested}}})
    assert f"nested more than {parsing.MAX_CONFIG_DEPTH} levels deep" in str(err)


def test_shared_references_within_the_limit_are_fine() -> None:
    shared = {"kind": "openai", "models": ["q"], "prices": {"q": {"input": 0, "output": 0}}}
    config = load_config({"providers": {"a": shared, "b": shared}}, environ={})
    assert config.providers["a"] == config.providers["b"]
    assert config.providers["a"] is not config.providers["b"]


# -- base_url ----------------------------------------------------------------------------------


def provider_with_base_url(url: str, *extra: str) -> str:
    """A one-provider file; ``base_url`` is on line 4, written as a double-quoted scalar."""
    lines = ["providers:", "  local:", "    kind: openai", f"    base_url: {json.dumps(url)}"]
    return "\n".join([*lines, *(f"    {line}" for line in extra)]) + "\n"


LINK_LOCAL_URLS = [
    ("http://169.254.169.254/latest/meta-data", "is a link-local address"),
    ("http://169.254.170.2/v2/credentials", "is a link-local address"),
    ("http://2852039166/", "'2852039166' (169.254.169.254) is a link-local address"),
    ("http://0xa9fea9fe/", "'0xa9fea9fe' (169.254.169.254) is a link-local address"),
    ("http://0251.0376.0251.0376/", "(169.254.169.254) is a link-local address"),
    ("http://169.254.43518/", "(169.254.169.254) is a link-local address"),
    ("http://%31%36%39.254.169.254/", "(169.254.169.254) is a link-local address"),
    ("http://\uff11\uff16\uff19\uff0e254.169.254/", "(169.254.169.254) is a link-local address"),
    ("http://[fe80::1%25eth0]:8000/v1", "is a link-local address"),
    ("http://[::ffff:169.254.169.254]/", "(169.254.169.254) is a link-local address"),
    ("http://[64:ff9b::a9fe:a9fe]/", "(169.254.169.254) is a link-local address"),
    ("http://metadata.google.internal/computeMetadata/v1", "is a cloud metadata endpoint"),
    ("http://Metadata.Google.Internal./", "is a cloud metadata endpoint"),
    ("http://metadata/computeMetadata/v1", "is a cloud metadata endpoint"),
    ("http://[fd00:ec2::254]/latest", "'fd00:ec2::254' is a cloud metadata endpoint"),
    ("http://100.100.100.200/latest/meta-data", "is a cloud metadata endpoint"),
]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://", "base_url has no host"),
        ("https:///v1", "base_url has no host"),
        ("http://:8000/v1", "base_url has no host"),
        ("http://host:80000/v1", "base_url has an invalid port"),
        ("http://host:http/v1", "base_url has an invalid port"),
        ("http://[::1/v1", "base_url is not a valid URL"),
        ("http://a\\b/v1", "base_url has an invalid host name"),
        ("ftp://host/v1", "base_url must start with http:// or https://"),
        ("http://host/v1\r\nX-Injected: 1", "whitespace or a control character (character 15)"),
        ("http://host/v1\n", "whitespace or a control character (character 15)"),
        ("http://host/v 1", "whitespace or a control character (character 14)"),
        (" http://host/v1", "whitespace or a control character (character 1)"),
        ("http://host/\tv1", "whitespace or a control character (character 13)"),
        ("http://host/\x00v1", "whitespace or a control character (character 13)"),
        ("http://ho\u200bst/v1", "whitespace or a control character (character 10)"),
        ("http://host\u3000/v1", "whitespace or a control character (character 12)"),
        *LINK_LOCAL_URLS,
    ],
)
def test_base_url_problems_are_reported_with_file_line_and_key_path(
    tmp_path: Path, url: str, message: str
) -> None:
    file = write(tmp_path, provider_with_base_url(url))
    err = load_error(file)
    assert (err.source, err.line, err.path) == (str(file), 4, "providers.local.base_url")
    assert message in str(err), str(err)


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2-canary@llm.internal:8000/v1",
        "https://hunter2-canary@llm.internal/v1",
        "http://user:hunter2-canary@169.254.169.254/",
        "http://user:hunter2%40canary@[::1]/",
    ],
)
def test_base_url_credentials_are_refused_without_repeating_them(tmp_path: Path, url: str) -> None:
    for extra in ((), ("allow_link_local: true",)):
        file = write(tmp_path, provider_with_base_url(url, *extra))
        err = load_error(file)
        assert (err.line, err.path) == (4, "providers.local.base_url")
        assert "must not contain credentials (user:password@)" in str(err)
        assert "api_key" in str(err) and "extra_headers" in str(err)
        assert "hunter2" not in str(err) and "canary" not in str(err)
    with pytest.raises(ValueError) as info:
        ProviderSettings(name="local", kind="openai", base_url=url)
    assert "must not contain credentials" in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("url", [url for url, _ in LINK_LOCAL_URLS])
def test_allow_link_local_lets_a_provider_use_those_addresses(tmp_path: Path, url: str) -> None:
    config = load_config(
        write(tmp_path, provider_with_base_url(url, "allow_link_local: true")), environ={}
    )
    local = config.providers["local"]
    assert local.base_url == url and local.allow_link_local
    settings = config.provider_settings("local")
    assert (settings.base_url, settings.allow_link_local) == (url, True)
    with pytest.raises(ValueError, match="allow_link_local: true"):
        ProviderSettings(name="local", kind="openai", base_url=url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/v1",
        "http://127.8.9.10:8000/v1",
        "http://localhost:11434/v1",
        "http://LOCALHOST./v1",
        "http://[::1]:8000/v1",
        "http://2130706433:8000/v1",  # 127.0.0.1 in decimal
        "http://10.0.0.12:8000/v1",
        "http://192.168.1.20/v1",
        "http://vllm.internal:8000/v1",
        "http://ollama_server:11434/v1",
        "https://api.x.ai/v1",
        "HTTPS://API.OPENAI.COM/v1",
        "https://llm.example.org/v1?api-version=2024-10-01",
    ],
)
def test_loopback_private_and_public_base_urls_are_allowed(tmp_path: Path, url: str) -> None:
    config = load_config(write(tmp_path, provider_with_base_url(url)), environ={})
    assert config.providers["local"].base_url == url
    assert ProviderSettings(name="local", kind="openai", base_url=url).base_url == url


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("169.254.169.254", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("0xA9FEA9FE", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("0xa9.0xfe.43518", "169.254.169.254"),
        ("169.16689662", "169.254.169.254"),
        ("0", "0.0.0.0"),
        ("1.2.3.4", "1.2.3.4"),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("1.2.65536", None),
        ("4294967296", None),
        ("08.1.1.1", None),
        ("0x", None),
        ("1..2", None),
        ("llm.internal", None),
        ("\uff11.2.3.4", None),
    ],
)
def test_parse_ipv4_reads_every_inet_aton_notation(text: str, address: str | None) -> None:
    parsed = parse_ipv4(text)
    assert (str(parsed) if parsed is not None else None) == address


# -- secrets: URL passwords and header values ------------------------------------------------

# Every secret below contains CANARY; nothing but the code that connects may ever see it.
CIRCUIT_PASSWORD = "CANARY-circuit%40pw"  # percent-encoded "@": the client gets it decoded
CACHE_PASSWORD = "CANARY-cache-pw"
PROXY_AUTHORIZATION = "Basic CANARY-proxy-credentials"
TENANT_TOKEN = "CANARY-tenant-token"

SECRET_YAML = """
providers:
  proxied:
    kind: openai
    api_key: EMPTY
    base_url: http://127.0.0.1:8000/v1
    models: [q]
    extra_headers:
      Proxy-Authorization: "Basic CANARY-proxy-credentials"
      X-Tenant-Token: ${TENANT_TOKEN}
defaults:
  circuit:
    store: redis://dispatch:CANARY-circuit%40pw@redis.internal:6379/2
cache:
  backend: redis
  url: rediss://:${CACHE_PASSWORD}@cache.internal:6380/0
"""
SECRET_ENV = {"TENANT_TOKEN": TENANT_TOKEN, "CACHE_PASSWORD": CACHE_PASSWORD}


def secret_dict() -> dict[str, Any]:
    return {
        "providers": {
            "proxied": {
                "kind": "openai",
                "api_key": "EMPTY",
                "base_url": "http://127.0.0.1:8000/v1",
                "models": ["q"],
                "extra_headers": {
                    "Proxy-Authorization": PROXY_AUTHORIZATION,
                    "X-Tenant-Token": TENANT_TOKEN,
                },
            }
        },
        "defaults": {
            "circuit": {"store": f"redis://dispatch:{CIRCUIT_PASSWORD}@redis.internal:6379/2"}
        },
        # The URL as the backend itself, rather than backend: redis + url.
        "cache": {"backend": f"rediss://:{CACHE_PASSWORD}@cache.internal:6380/0"},
    }


def secret_configs(tmp_path: Path) -> list[DispatchConfig]:
    return [
        load_config(write(tmp_path, SECRET_YAML), environ=SECRET_ENV),
        load_config(secret_dict(), environ={}),
        DispatchConfig.model_validate(secret_dict()),
    ]


def shown(value: Any) -> list[str]:
    """Every way ``value`` can be shown: str, repr, and its dumps when it is a model."""
    texts = [str(value), repr(value)]
    if isinstance(value, BaseModel):
        texts += [
            repr(value.model_dump()),
            repr(value.model_dump(mode="json")),
            value.model_dump_json(),
            value.model_dump_json(indent=2),
        ]
    return texts


def test_no_url_password_or_header_value_is_shown_by_the_configuration(
    tmp_path: Path,
) -> None:
    for config in secret_configs(tmp_path):
        assert config.cache is not None
        settings = config.provider_settings("proxied")
        parts: list[Any] = [
            config,
            config.providers,
            config.providers["proxied"],
            config.providers["proxied"].extra_headers,
            settings,
            settings.extra_headers,
            create_provider(settings),
            create_provider(settings).describe(),
            config.defaults,
            config.defaults.circuit,
            config.defaults.circuit.store,
            config.cache,
            config.cache.backend,
            StreamingCache.from_options(config.cache),
        ]
        for part in parts:
            for text in shown(part):
                assert "CANARY" not in text, text
        json_dump = config.model_dump(mode="json")
        assert json_dump["defaults"]["circuit"]["store"] == (
            "redis://dispatch:***@redis.internal:6379/2"
        )
        cache_json = json_dump["cache"]  # the URL is in backend or in url, by source
        assert "rediss://:***@cache.internal:6380/0" in (cache_json["backend"], cache_json["url"])
        assert json_dump["providers"]["proxied"]["extra_headers"] == {
            "Proxy-Authorization": "**********",
            "X-Tenant-Token": "**********",
        }


def test_the_real_secrets_still_reach_the_clients(tmp_path: Path) -> None:
    for config in secret_configs(tmp_path):
        settings = config.provider_settings("proxied")
        assert settings.header_values() == {
            "Proxy-Authorization": PROXY_AUTHORIZATION,
            "X-Tenant-Token": TENANT_TOKEN,
        }
        provider = create_provider(settings)
        assert PROXY_AUTHORIZATION in provider.secrets()
        assert TENANT_TOKEN in provider.secrets()

        store = store_from_settings(config.defaults.circuit)
        assert isinstance(store, RedisCircuitStore)
        kwargs = store._client.connection_pool.connection_kwargs
        assert (kwargs["username"], kwargs["password"]) == ("dispatch", "CANARY-circuit@pw")

        assert config.cache is not None
        assert config.cache.redis_url == f"rediss://:{CACHE_PASSWORD}@cache.internal:6380/0"

        # A dump keeps the secrets themselves, so it validates back to the same configuration
        # (the policy overrides of decorators go through such a dump too).
        again = DispatchConfig.model_validate(config.model_dump())
        assert again == config
        assert again.defaults.circuit.store == config.defaults.circuit.store
        merged = merge_policy(config.defaults, {"retry": {"max_retries": 0}})
        assert merged.circuit.store == config.defaults.circuit.store


async def test_the_cache_connects_to_redis_with_the_password(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SECRET_YAML), environ=SECRET_ENV)
    assert config.cache is not None
    cache = StreamingCache.from_options(config.cache)
    cache._ensure_store()  # builds the client; connects only on the first command
    backend = cache._connection._backend
    assert backend is not None
    kwargs = backend.client.connection_pool.connection_kwargs
    assert kwargs["password"] == CACHE_PASSWORD
    assert "CANARY" not in repr(cache)
    await cache.aclose()


@pytest.mark.parametrize("kind", ["openai", "anthropic", "google"])
async def test_header_values_reach_the_server_and_stay_out_of_provider_errors(
    fake_server: FakeProviderServer,
    sdk_provider: Callable[..., Provider],
    collect: Callable[[Provider, Request, str], Awaitable[Any]],
    kind: str,
) -> None:
    provider = sdk_provider(
        kind,
        extra_headers={"Proxy-Authorization": PROXY_AUTHORIZATION, "X-Tenant-Token": TENANT_TOKEN},
    )
    fake_server.enqueue(
        Script(status=400, error_kind="bad_request", error_message=f"bad {PROXY_AUTHORIZATION}")
    )

    outcome = await collect(provider, Request(messages=(Message(role="user", content="hi"),)), "m")

    headers = {k.lower(): v for k, v in fake_server.requests[0].headers.items()}
    assert headers["proxy-authorization"] == PROXY_AUTHORIZATION
    assert headers["x-tenant-token"] == TENANT_TOKEN
    assert outcome.error is not None
    assert "CANARY" not in str(outcome.error) and "CANARY" not in repr(outcome.error)
    assert "[redacted]" in str(outcome.error)


INVALID_SECRET_YAML = [
    # an unknown key next to them
    (SECRET_YAML + "  ttl_seconds: 5\n", 16, "cache.ttl_seconds", "unknown key 'ttl_seconds'"),
    # an invalid value in the same section
    (
        SECRET_YAML.replace("  circuit:\n", "  circuit:\n    window: -1\n"),
        12,
        "defaults.circuit.window",
        "greater than 0",
    ),
    # a URL with an unknown scheme and a password
    (
        SECRET_YAML.replace("store: redis://", "store: redi://"),
        12,
        "defaults.circuit.store",
        "unknown circuit store scheme 'redi://'",
    ),
    (
        SECRET_YAML.replace("url: rediss://", "url: http://"),
        13,
        "cache",
        "url must be a redis:// or rediss:// URL",
    ),
    (
        SECRET_YAML.replace("  backend: redis\n", "  backend: memcached://u:CANARY-mc@mc:11211\n"),
        14,
        "cache.backend",
        "unknown cache backend scheme 'memcached://'",
    ),
    # a password URL where a plain word is expected
    (
        SECRET_YAML.replace("  circuit:\n", "  mid_stream: redis://u:CANARY-word@h\n  circuit:\n"),
        11,
        "defaults.mid_stream",
        "the value is not one of 'raise' or 'continue'",
    ),
    (
        SECRET_YAML.replace("store: redis://dispatch:", "store: dispatch:"),
        12,
        "defaults.circuit.store",
        "unknown circuit store: use 'memory'",
    ),
    # an unresolved variable in, and next to, the secrets
    (
        SECRET_YAML.replace("@redis.internal:", "@${REDIS_HOST}:"),
        12,
        "defaults.circuit.store",
        "environment variable REDIS_HOST is not set",
    ),
    (
        SECRET_YAML.replace("    models: [q]\n", "    models: [q]\n    default_model: ${M}\n"),
        7,
        "providers.proxied.default_model",
        "environment variable M is not set",
    ),
    # a malformed reference before the secret part of a value
    (
        SECRET_YAML.replace('"Basic CANARY', '"Basic ${ CANARY'),
        8,
        "providers.proxied.extra_headers.Proxy-Authorization",
        "malformed reference at character 7",
    ),
    # a header value of the wrong type
    (
        SECRET_YAML.replace('"Basic CANARY-proxy-credentials"', "[CANARY-in-a-list]"),
        8,
        "providers.proxied.extra_headers.Proxy-Authorization",
        "input should be a valid string",
    ),
    # credentials in base_url
    (
        SECRET_YAML.replace("http://127.0.0.1", "http://user:CANARY-base@127.0.0.1"),
        5,
        "providers.proxied.base_url",
        "must not contain credentials",
    ),
    # a problem between sections
    (
        SECRET_YAML + "routes:\n  default: [proxied, missing]\n",
        17,
        "routes.default[1]",
        "unknown provider 'missing'",
    ),
]


@pytest.mark.parametrize(("text", "line", "path", "message"), INVALID_SECRET_YAML)
def test_errors_of_invalid_configurations_never_show_the_secrets(
    tmp_path: Path, text: str, line: int, path: str, message: str
) -> None:
    file = write(tmp_path, text)
    err = load_error(file, environ=SECRET_ENV)
    assert (err.line, err.path) == (line, path), str(err)
    assert message in str(err)
    assert "CANARY" not in str(err) and "CANARY" not in repr(err)


def test_yaml_errors_next_to_secrets_never_show_them(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, SECRET_YAML + "  - not: [valid\n"), environ=SECRET_ENV)
    assert err.line is not None and "invalid YAML" in str(err)
    assert "CANARY" not in str(err)


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda d: d["defaults"]["circuit"].update(store="redi://u:CANARY-x@h"),
            "defaults.circuit.store",
            "unknown circuit store scheme 'redi://'",
        ),
        (
            lambda d: d["cache"].update(backend="CANARY not a URL"),
            "cache.backend",
            "unknown cache backend: use",
        ),
        (
            lambda d: d["cache"].update(namespace="has space"),
            "cache.namespace",
            "string should match pattern",
        ),
        (
            lambda d: d["providers"]["proxied"]["extra_headers"].update({"X-Other": 5}),
            "providers.proxied.extra_headers.X-Other",
            "input should be a valid string",
        ),
        (
            lambda d: d["providers"]["proxied"].update(weight=-1),
            "providers.proxied.weight",
            "greater than or equal to 0",
        ),
        (
            lambda d: d["defaults"].update(mid_stream=f"redis://:{CACHE_PASSWORD}@h"),
            "defaults.mid_stream",
            "the value is not one of",
        ),
    ],
)
def test_errors_of_invalid_mapping_sources_never_show_the_secrets(
    change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    data = secret_dict()
    change(data)
    err = load_error(data)
    assert err.path == path, str(err)
    assert message in str(err)
    assert "CANARY" not in str(err)
    with pytest.raises(ValidationError) as info:  # pydantic's own message, without the loader
        DispatchConfig.model_validate(data)
    assert "CANARY" not in str(info.value)


@pytest.mark.parametrize(
    "build",
    [
        lambda: CacheOptions(backend="memcached://u:CANARY-x@h"),  # type: ignore[arg-type]
        lambda: CacheOptions(backend="redis", url="http://u:CANARY-x@h"),  # type: ignore[arg-type]
        lambda: CacheOptions.model_validate(
            {"backend": "redis://:CANARY-x@h", "namespace": "has space"}
        ),
        lambda: CircuitSettings(store="u:CANARY-x@h"),  # type: ignore[arg-type]
        lambda: ProviderSettings(
            name="p",
            kind="openai",
            extra_headers={"X-Auth": ["CANARY-x"]},  # type: ignore[dict-item]
        ),
        lambda: ProviderSettings(name="p", kind="openai", base_url="http://u:CANARY-x@h"),
        lambda: ProviderConfig(
            kind="openai",
            extra_headers={"X-Auth": "CANARY-x"},  # type: ignore[dict-item]
            weight=-1,
        ),
    ],
)
def test_validation_errors_of_the_models_never_show_the_secrets(
    build: Callable[[], object],
) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert "CANARY" not in str(info.value) and "CANARY" not in repr(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Error connecting to redis://u:CANARY-pw@h:6379/0.",
            "Error connecting to redis://u:***@h:6379/0.",
        ),
        ("url='rediss://:CANARY%40pw@cache/1'", "url='rediss://:***@cache/1'"),
        (
            "redis://a:CANARY-1@h1 then https://b:CANARY-2@h2/v1",
            "redis://a:***@h1 then https://b:***@h2/v1",
        ),
        ("unix://u:CANARY-pw@/run/redis.sock?db=0", "unix://u:***@/run/redis.sock?db=0"),
        ("redis://h/0?db=1&password=CANARY-pw", "redis://h/0?db=1&password=***"),
        ("https://api.example.org:443/v1/user@example.org", None),  # no password: unchanged
        ("redis://user@h:6379", None),
    ],
)
def test_redact_masks_url_passwords(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)


def test_secret_url_masks_every_form_of_password() -> None:
    for url, masked in [
        ("redis://u:CANARY@h:6379/0", "redis://u:***@h:6379/0"),
        ("redis://:CANARY@h", "redis://:***@h"),
        ("rediss://u:CANARY/with/slash@h/0", "rediss://u:***@h/0"),
        ("redis://u:CANARY@with@at@h", "redis://u:***@h"),
        ("redis://h:6379/0?password=CANARY&db=1", "redis://h:6379/0?password=***&db=1"),
        ("redis://h:6379/0", "redis://h:6379/0"),
    ]:
        secret = SecretUrl(url)
        assert (str(secret), repr(secret)) == (masked, f"SecretUrl({masked!r})")
        assert secret.get_secret_value() == url
        assert secret == SecretUrl(url) and hash(secret) == hash(SecretUrl(url))
        assert secret != url


def test_a_provider_cannot_have_its_own_total_deadline(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "providers:\n  openai:\n    kind: openai\n    timeouts: {first_token: 5, total: 3}\n",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert "dispatch.yaml:4 providers.openai.timeouts.total: the total deadline covers the " in (
        str(info.value)
    )
