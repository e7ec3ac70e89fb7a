"""An OpenAI-compatible server (vLLM, Ollama, xAI ...) as its own named provider."""

from __future__ import annotations

import pytest

from llm_dispatch.errors import ConfigError, OverloadedError
from llm_dispatch.events import ProviderEvent, Usage
from llm_dispatch.providers import PROVIDER_KINDS, create_provider, disabled_reason
from llm_dispatch.providers.base import ProviderSettings
from llm_dispatch.providers.openai import OpenAIProvider
from llm_dispatch.request import Message, Request
from llm_dispatch.testing import Script

pytestmark = pytest.mark.usefixtures("clean_provider_env")

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
REQUEST = Request(messages=(Message(role="user", content="say hi"),), max_tokens=40)
OPENAI_KEY = "sk-real-openai-key-0123456789"


@pytest.fixture
def vllm(fake_server, sdk_provider):
    """A provider named ``vllm`` with its own base_url and no key of its own."""
    return sdk_provider("openai", name="vllm", api_key=None, base_url=fake_server.openai_base_url)


async def test_streams_from_the_configured_server(fake_server, vllm, collect) -> None:
    fake_server.enqueue(Script(chunks=["Hi", " there"], usage=(3, 2)))

    outcome = await collect(vllm, REQUEST, MODEL)

    assert outcome.error is None
    assert outcome.texts == ["Hi", " there"]
    assert outcome.final == ProviderEvent(usage=Usage.of(3, 2), finish_reason="stop")
    body = fake_server.requests[0].body
    assert body["model"] == MODEL
    assert body["max_tokens"] == 40
    assert "max_completion_tokens" not in body


async def test_openai_key_is_never_sent_to_another_server(
    vllm, collect, sent_headers, monkeypatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)

    outcome = await collect(vllm, REQUEST, MODEL)

    assert outcome.error is None
    assert OPENAI_KEY not in sent_headers().get("authorization", "")


async def test_configured_key_and_headers_are_sent(
    fake_server, sdk_provider, collect, sent_headers
) -> None:
    provider = sdk_provider(
        "openai",
        name="grok",
        api_key="xai-key-0123456789",
        base_url=fake_server.openai_base_url,
        extra_headers={"X-Tenant": "team-a"},
    )

    await collect(provider, REQUEST, "grok-test")

    headers = sent_headers()
    assert headers["authorization"] == "Bearer xai-key-0123456789"
    assert headers["x-tenant"] == "team-a"


async def test_errors_name_the_configured_provider(fake_server, vllm, collect) -> None:
    fake_server.enqueue(Script(status=503, retry_after=1))

    error = (await collect(vllm, REQUEST, MODEL)).error

    assert isinstance(error, OverloadedError)
    assert error.provider == "vllm"
    assert error.retry_after == 1.0


def test_a_compatible_server_needs_no_key() -> None:
    settings = ProviderSettings(name="ollama", kind="openai", base_url="http://127.0.0.1:11434/v1")

    assert OpenAIProvider.has_credentials(settings)
    assert disabled_reason(settings) is None


def test_registry_creates_providers_by_kind() -> None:
    for kind, target in PROVIDER_KINDS.items():
        provider = create_provider(ProviderSettings(name=f"my-{kind}", kind=kind))
        assert f"{type(provider).__module__}:{type(provider).__name__}" == target
        assert provider.name == f"my-{kind}"
    assert "function" not in PROVIDER_KINDS


def test_unknown_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown provider kind 'mystery'"):
        create_provider(ProviderSettings(name="x", kind="mystery"))
