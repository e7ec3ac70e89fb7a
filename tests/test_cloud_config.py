"""The cloud kinds' configuration: their fields, the errors (file, line, key path) for a
field missing or given to a kind that does not take it, the credential rule routing applies,
and secrets kept out of reprs and dumps."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cloud_fixtures import AZURE_KEY, CLOUD_KINDS, VERTEX_TOKEN
from cloud_fixtures import cloud_env as cloud_env

from llm_dispatch import ConfigError
from llm_dispatch.providers.base import FAST_PARSER_KINDS, ProviderSettings
from llm_dispatch.providers.classify import kind_for_labels
from llm_dispatch.providers.credentials import API_KEY_ENV_VARS, has_credentials
from llm_dispatch.providers.kinds import base_kind
from llm_dispatch.providers.options import PROVIDER_OPTIONS
from llm_dispatch.providers.registry import disabled_reason, provider_class
from llm_dispatch.settings import load_config


def load_error(tmp_path: Path, text: str) -> ConfigError:
    path = tmp_path / "dispatch.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    return info.value


# (the YAML, the line the error names, its key path, what it says)
PROBLEMS = [
    (
        """
        providers:
          azure:
            kind: azure_openai
            base_url: https://example.openai.azure.com
            deployment: gpt-4o-prod
        """,
        2,
        "providers.azure.api_version",
        "a provider of kind 'azure_openai' needs api_version",
    ),
    (
        """
        providers:
          azure:
            kind: azure_openai
            api_version: "2024-10-21"
        """,
        2,
        "providers.azure.deployment",
        "needs a deployment: set deployment, or name the deployments as models",
    ),
    (
        """
        providers:
          gemini:
            kind: google_vertex
            location: us-central1
        """,
        2,
        "providers.gemini.project",
        "a provider of kind 'google_vertex' needs project",
    ),
    (
        """
        providers:
          claude:
            kind: anthropic_vertex
            project: my-project
        """,
        2,
        "providers.claude.location",
        "a provider of kind 'anthropic_vertex' needs location",
    ),
    (
        """
        providers:
          bedrock:
            kind: anthropic_bedrock
            default_model: anthropic.claude-sonnet-4-5-20250929-v1:0
        """,
        2,
        "providers.bedrock.region",
        "a provider of kind 'anthropic_bedrock' needs region",
    ),
    (
        """
        providers:
          openai:
            kind: openai
            project: my-project
        """,
        4,
        "providers.openai.project",
        "a provider of kind 'openai' takes no project (only anthropic_vertex, google_vertex)",
    ),
    (
        """
        providers:
          gemini:
            kind: google_vertex
            project: p
            location: global
            region: us-east-1
        """,
        6,
        "providers.gemini.region",
        "a provider of kind 'google_vertex' takes no region (only anthropic_bedrock)",
    ),
    (
        """
        providers:
          gemini:
            kind: google_vertex
            project: p
            location: global
            api_key: AIza-not-for-vertex
        """,
        6,
        "providers.gemini.api_key",
        "takes no api_key: it authenticates with access_token, else Application Default",
    ),
    (
        """
        providers:
          bedrock:
            kind: anthropic_bedrock
            region: us-east-1
            parser: fast
        """,
        5,
        "providers.bedrock.parser",
        "a provider of kind 'anthropic_bedrock' takes no parser 'fast'",
    ),
    (
        """
        providers:
          azure:
            kind: azure_openai
            api_version: "2024-10-21"
            deployment: d
            api: responses
        """,
        6,
        "providers.azure.api",
        "a provider of kind 'azure_openai' takes no api",
    ),
]


@pytest.mark.parametrize(("yaml_text", "line", "path", "message"), PROBLEMS)
def test_errors_carry_file_line_and_key_path(
    tmp_path: Path, yaml_text: str, line: int, path: str, message: str
) -> None:
    err = load_error(tmp_path, yaml_text)

    assert (err.line, err.path) == (line, path), str(err)
    assert str(err).startswith(f"{tmp_path / 'dispatch.yaml'}:{line} {path}: ")
    assert message in str(err)


def test_settings_built_in_code_refuse_fields_of_other_kinds() -> None:
    with pytest.raises(ValueError, match="region: a provider of kind 'anthropic_vertex' takes"):
        ProviderSettings(name="c", kind="anthropic_vertex", project="p", region="us-east-1")


def test_a_full_entry_of_each_kind_loads(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.yaml"
    path.write_text(
        textwrap.dedent(
            """
            providers:
              azure:
                kind: azure_openai
                base_url: https://example.openai.azure.com
                api_version: "2024-10-21"
                models: [gpt-4o-prod]
              gemini:
                kind: google_vertex
                project: my-project
                location: us-central1
                access_token: ${VERTEX_TOKEN}
                default_model: gemini-2.5-flash
              claude:
                kind: anthropic_vertex
                project: my-project
                location: us-east5
                default_model: claude-sonnet-4-5@20250929
              bedrock:
                kind: anthropic_bedrock
                region: us-west-2
                default_model: us.anthropic.claude-sonnet-4-5-20250929-v1:0
            """
        ),
        encoding="utf-8",
    )
    config = load_config(path, environ={"VERTEX_TOKEN": VERTEX_TOKEN})

    settings = {name: config.provider_settings(name) for name in config.providers}
    assert settings["azure"].api_version == "2024-10-21" and settings["azure"].parser == "fast"
    assert (settings["gemini"].project, settings["gemini"].location) == (
        "my-project",
        "us-central1",
    )
    assert settings["claude"].parser == "fast" and settings["bedrock"].parser == "sdk"
    assert settings["bedrock"].region == "us-west-2"
    # The token is a secret: masked in reprs and dumps.
    assert VERTEX_TOKEN not in repr(config) and VERTEX_TOKEN not in repr(settings["gemini"])
    assert VERTEX_TOKEN not in str(config.model_dump())
    # A Claude model on Vertex is in the Anthropic family (images, documents, its window).
    assert (
        "image"
        in config.providers["claude"].capabilities_for("claude-sonnet-4-5@20250929").modalities
    )


# -- the tables and the credential rule --------------------------------------------------------


def test_each_cloud_kind_has_its_base_kinds_tables() -> None:
    assert {k: base_kind(k) for k in CLOUD_KINDS} == {
        "azure_openai": "openai",
        "google_vertex": "google",
        "anthropic_vertex": "anthropic",
        "anthropic_bedrock": "anthropic",
    }
    for kind in CLOUD_KINDS:
        assert PROVIDER_OPTIONS[kind] == PROVIDER_OPTIONS[base_kind(kind)]
        assert provider_class(kind).credential_env_vars == API_KEY_ENV_VARS[kind]
    assert {"azure_openai", "google_vertex", "anthropic_vertex"} <= FAST_PARSER_KINDS
    assert "anthropic_bedrock" not in FAST_PARSER_KINDS


@pytest.mark.usefixtures("cloud_env")
def test_azure_needs_a_key_the_credential_chains_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    azure = ProviderSettings(name="az", kind="azure_openai", api_version="v", deployment="d")
    assert disabled_reason(azure) == (
        "disabled: no API key (set AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN or "
        "providers.az.api_key)"
    )
    assert has_credentials(azure.model_copy(update={"api_key": AZURE_KEY}))
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "entra-token")
    assert disabled_reason(azure) is None

    # ADC and the AWS chain can end at a metadata server: never disabled for want of a key.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    chains = [
        ProviderSettings(name="g", kind="google_vertex", project="p", location="l"),
        ProviderSettings(name="c", kind="anthropic_vertex", project="p", location="l"),
        ProviderSettings(name="b", kind="anthropic_bedrock", region="us-east-1"),
    ]
    for settings in chains:
        assert disabled_reason(settings) is None
        assert provider_class(settings.kind).has_credentials(settings)


def test_cloud_model_names_are_in_their_families() -> None:
    config = load_config(
        {
            "providers": {
                "bedrock": {"kind": "anthropic_bedrock", "region": "us-east-1"},
                "claude": {"kind": "anthropic_vertex", "project": "p", "location": "l"},
                "gemini": {"kind": "google_vertex", "project": "p", "location": "l"},
            }
        },
        environ={},
    )
    takes = {
        name: config.providers[name].capabilities_for(model)
        for name, model in (
            ("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            ("claude", "claude-sonnet-4-5@20250929"),
            ("gemini", "gemini-2.5-flash"),
        )
    }
    assert takes["bedrock"].modalities == takes["claude"].modalities >= {"image", "document"}
    assert takes["bedrock"].context_window == 200_000
    assert "audio" in takes["gemini"].modalities


# Bedrock's in-stream exception types, as the error kinds they are.
BEDROCK_EXCEPTIONS = [
    ("throttlingException", "rate_limit"),
    ("serviceUnavailableException", "overloaded"),
    ("modelTimeoutException", "timeout"),
    ("validationException", "bad_request"),
    ("internalServerException", "server"),
]


@pytest.mark.parametrize(("label", "kind"), BEDROCK_EXCEPTIONS)
def test_bedrock_exception_types_are_classified(label: str, kind: str) -> None:
    found = kind_for_labels(label)
    assert found is not None and found.value == kind
