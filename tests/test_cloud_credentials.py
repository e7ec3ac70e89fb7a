"""Where the cloud kinds find their credentials: keys and tokens from the environment,
Application Default Credentials through a token endpoint on 127.0.0.1, a credential chain
that finds nothing, a needed field missing, and the offline switch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiohttp import web
from cloud_fixtures import (
    AWS_SECRET_KEY,
    AZURE_KEY,
    BEDROCK_KEY,
    CLOUD_KINDS,
    MODELS,
    SAY_HI,
    VERTEX_TOKEN,
    header,
    provider_entry,
    service_account_file,
)
from conftest import collect_stream
from secret_search import found_in, outputs_of, rendered

from llm_dispatch import Client, Dispatcher, ProviderError
from llm_dispatch.providers.base import Provider
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

pytestmark = pytest.mark.usefixtures("cloud_env")

FAST = {"backoff_base": 0.01, "backoff_max": 0.02, "jitter": 0.0}


async def test_azure_key_from_the_environment(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake_server.url)
    provider = cloud_provider("azure_openai", api_key=None, base_url=None)

    outcome = await collect_stream(provider, SAY_HI, "gpt-4o-prod")

    assert outcome.error is None
    assert header(fake_server.requests[0], "api-key") == AZURE_KEY
    # Without an endpoint anywhere, the provider says where to set one.
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT")
    outcome = await collect_stream(
        cloud_provider("azure_openai", base_url=None), SAY_HI, "gpt-4o-prod"
    )
    assert outcome.error is not None and outcome.error.kind.value == "not_found"
    assert "AZURE_OPENAI_ENDPOINT" in str(outcome.error)


@pytest.fixture
async def token_endpoint() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """An OAuth 2 token endpoint on 127.0.0.1: its URL, and the forms it was sent."""
    forms: list[dict[str, str]] = []

    async def issue(request: web.Request) -> web.Response:
        forms.append(dict(await request.post()))  # type: ignore[arg-type]
        body = {"access_token": "ya29.from-adc", "expires_in": 3600, "token_type": "Bearer"}
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/token", issue)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/token", forms
    await runner.cleanup()


@pytest.mark.parametrize("kind", ["google_vertex", "anthropic_vertex"])
async def test_vertex_uses_application_default_credentials(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    token_endpoint: tuple[str, list[dict[str, str]]],
    kind: str,
) -> None:
    url, forms = token_endpoint
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_file(tmp_path, url)))
    provider = cloud_provider(kind, access_token=None)

    outcome = await collect_stream(provider, SAY_HI, MODELS[kind])

    assert outcome.error is None and outcome.final.finish_reason == "stop"
    # A signed JWT exchanged for a token, which the request then carried.
    assert [form["grant_type"] for form in forms] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert header(fake_server.requests[0], "authorization") == "Bearer ya29.from-adc"


@pytest.mark.parametrize("kind", ["google_vertex", "anthropic_vertex", "anthropic_bedrock"])
async def test_no_credential_in_the_chain_is_an_auth_error(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
) -> None:
    # Application Default Credentials naming a file that is not there (which fails at once,
    # where the metadata server's probe would take seconds), and no AWS keys.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    if "vertex" in kind:
        provider = cloud_provider(kind, access_token=None)
    else:
        # The SDK keeps one boto3 session (and the credentials it resolved) per region in a
        # process: a region no other test uses gets a fresh one.
        provider = cloud_provider(kind, region="ap-southeast-2")

    outcome = await collect_stream(provider, SAY_HI, MODELS[kind])

    assert outcome.error is not None and outcome.error.kind.value == "auth", outcome.error
    assert not fake_server.requests, "nothing was sent"


@pytest.mark.parametrize(
    ("kind", "unset"),
    [("azure_openai", "api_version"), ("google_vertex", "project"),
     ("anthropic_vertex", "location"), ("anthropic_bedrock", "region")],
)  # fmt: skip
async def test_a_provider_built_without_a_needed_field_says_which(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    kind: str,
    unset: str,
) -> None:
    provider = cloud_provider(kind, **{unset: None})

    outcome = await collect_stream(provider, SAY_HI, MODELS[kind])

    assert outcome.error is not None and outcome.error.kind.value == "bad_request"
    assert f"a provider of kind {kind!r} needs {unset}" in str(outcome.error)
    assert f"providers.my-{kind}" in str(outcome.error)
    assert not fake_server.requests, "nothing was sent"


async def test_azure_entra_id_token_from_the_environment(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", VERTEX_TOKEN)
    provider = cloud_provider("azure_openai", api_key=None)

    outcome = await collect_stream(provider, SAY_HI, "gpt-4o-prod")

    assert outcome.error is None
    rec = fake_server.requests[0]
    assert header(rec, "authorization") == f"Bearer {VERTEX_TOKEN}", "the token as bearer"
    assert header(rec, "api-key") is None


async def test_offline_switch_serves_every_cloud_kind_without_credentials() -> None:
    providers = {
        f"my-{kind}": provider_entry(FakeProviderServer(), kind, base_url=None)
        for kind in ("azure_openai", "google_vertex", "anthropic_vertex", "anthropic_bedrock")
    }
    for entry in providers.values():
        entry.pop("api_key", None)
        entry.pop("access_token", None)
    providers["my-azure_openai"]["base_url"] = "https://example.openai.azure.com"
    dispatcher = Dispatcher({"providers": providers}, fake=True)
    client = Client(dispatcher=dispatcher)
    try:
        for name in providers:
            async with asyncio.timeout(30):
                stream = await client.open("hi", provider=name).collect()
            assert stream.done and stream.provider == name
            assert "fake" in stream.get_text()
    finally:
        await dispatcher.aclose()


@pytest.mark.parametrize("kind", CLOUD_KINDS)
async def test_no_secret_reaches_the_logs_or_the_raised_error(
    fake_server: FakeProviderServer, kind: str
) -> None:
    # A Bedrock API key too, so that a secret is sent whichever way Bedrock authenticates.
    extra = {"api_key": BEDROCK_KEY} if kind == "anthropic_bedrock" else {}
    name = f"my-{kind}"
    entry = provider_entry(fake_server, kind, **extra)
    dispatcher = Dispatcher({"providers": {name: entry}, "defaults": {"retry": FAST}}, fake=False)
    # A server that echoes the credential it was sent back in its error messages.
    sent = {"azure_openai": AZURE_KEY, "anthropic_bedrock": BEDROCK_KEY}.get(kind, VERTEX_TOKEN)
    fake_server.enqueue(Script(status=500, error_message=f"boom for {sent}"), provider=kind)
    fake_server.enqueue(Script(status=401, error_message=f"not valid: {sent}"), provider=kind)
    with capture_events(logging.DEBUG) as events:
        try:
            with pytest.raises(ProviderError) as info:
                await Client(dispatcher=dispatcher).stream_with_usage("hi", provider=name)
        finally:
            await dispatcher.aclose()

    assert info.value.kind.value == "auth" and len(fake_server.requests) == 2
    assert "not valid: " in str(info.value)
    secrets = [AZURE_KEY, VERTEX_TOKEN, BEDROCK_KEY, AWS_SECRET_KEY, "CANARY"]
    assert events, "the library logged the retry and the failure"
    assert not found_in(rendered(events), secrets), "a secret in the logs"
    assert not found_in(outputs_of(info.value), secrets), "a secret in the error"
