"""What the cloud-kind tests share: each kind's settings against the fake server, its test
secrets, and an environment in which no credential chain reaches past 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from llm_dispatch.providers.base import Provider, ProviderSettings
from llm_dispatch.providers.registry import create_provider
from llm_dispatch.request import Message, Request
from llm_dispatch.testing import FakeProviderServer, RecordedRequest

#: The cloud kinds and the parsers each one reads its streams with.
CLOUD_CASES = [
    ("azure_openai", "fast"),
    ("azure_openai", "sdk"),
    ("google_vertex", "fast"),
    ("google_vertex", "sdk"),
    ("anthropic_vertex", "fast"),
    ("anthropic_vertex", "sdk"),
    ("anthropic_bedrock", "sdk"),
]
CLOUD_KINDS = ("azure_openai", "google_vertex", "anthropic_vertex", "anthropic_bedrock")

#: Secrets shaped like real ones, each holding the word CANARY (searched for in errors).
AZURE_KEY = "0123456789abcdefCANARYazure0123456"
VERTEX_TOKEN = "ya29.CANARYvertexAccessToken0123456789"
AWS_ACCESS_KEY = "AKIACANARYTEST012345"
AWS_SECRET_KEY = "CANARYawsSecret/0123456789abcdefghijKLMNOP"
BEDROCK_KEY = "ABSKCANARYbedrockApiKey0123456789"

MODELS = {
    "azure_openai": "gpt-4o-prod",
    "google_vertex": "gemini-2.5-flash",
    "anthropic_vertex": "claude-sonnet-4-5@20250929",
    "anthropic_bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
}
PROJECT, LOCATION, REGION, API_VERSION = "proj-test", "us-east5", "us-west-2", "2024-10-21"

#: Each kind's fields besides kind, base_url, parser and model.
FIELDS: dict[str, dict[str, Any]] = {
    "azure_openai": {"api_key": AZURE_KEY, "api_version": API_VERSION},
    "google_vertex": {"project": PROJECT, "location": LOCATION, "access_token": VERTEX_TOKEN},
    "anthropic_vertex": {"project": PROJECT, "location": LOCATION, "access_token": VERTEX_TOKEN},
    "anthropic_bedrock": {"region": REGION},
}

#: Variables the SDKs and their credential chains read, unset for every cloud test.
CLOUD_ENV_VARS = (
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_VERTEX_BASE_URL",
    "GOOGLE_GENAI_API_VERSION",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "ANTHROPIC_VERTEX_BASE_URL",
    "CLOUD_ML_REGION",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


@pytest.fixture
def cloud_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clean_provider_env: None) -> None:
    """No cloud credential from the machine: every variable above unset, the AWS shared
    files, the gcloud configuration and both metadata servers pointed at nothing, and AWS
    keys for SigV4 set to the test's."""
    for name in CLOUD_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    missing = str(tmp_path / "absent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
    monkeypatch.setenv("AWS_CONFIG_FILE", missing)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CLOUDSDK_CONFIG", missing)
    # A closed port on 127.0.0.1: google-auth's metadata-server probe fails at once.
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET_KEY)


def provider_entry(
    server: FakeProviderServer, kind: str, parser: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """A ``providers:`` entry of ``kind`` aimed at ``server``."""
    entry: dict[str, Any] = {
        "kind": kind,
        "base_url": server.base_url_for(kind),
        "default_model": MODELS[kind],
        **FIELDS[kind],
        **overrides,
    }
    if parser is not None:
        entry["parser"] = parser
    return entry


def expected_path(kind: str, model: str) -> str:
    """The path and query the kind's SDK sends a streaming request of ``model`` to."""
    vertex = f"/projects/{PROJECT}/locations/{LOCATION}/publishers"
    return {
        "azure_openai": f"/openai/deployments/{model}/chat/completions?api-version={API_VERSION}",
        "google_vertex": f"/v1beta1{vertex}/google/models/{model}:streamGenerateContent?alt=sse",
        "anthropic_vertex": f"/v1{vertex}/anthropic/models/{model}:streamRawPredict",
        "anthropic_bedrock": f"/model/{model}/invoke-with-response-stream",
    }[kind]


def service_account_file(tmp_path: Path, token_uri: str) -> Path:
    """A service-account key file (a new RSA key) whose token endpoint is ``token_uri``:
    what ``GOOGLE_APPLICATION_CREDENTIALS`` names for Application Default Credentials."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    info = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "test-key-1",
        "private_key": pem,
        "client_email": f"dispatch-test@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


SAY_HI = Request(messages=(Message(role="user", content="say hi"),))


@pytest.fixture
async def cloud_provider(
    fake_server: FakeProviderServer,
) -> AsyncIterator[Callable[..., Provider]]:
    """Providers of a cloud kind aimed at the fake server; closed after the test."""
    made: list[Provider] = []

    def make(kind: str, parser: str | None = None, **overrides: Any) -> Provider:
        entry = provider_entry(fake_server, kind, parser, **overrides)
        provider = create_provider(ProviderSettings(name=f"my-{kind}", **entry))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


def header(rec: RecordedRequest, name: str) -> str | None:
    return next((v for k, v in rec.headers.items() if k.lower() == name), None)
