"""The cloud kinds (Azure OpenAI, Gemini and Claude on Vertex AI, Claude on Bedrock) end to
end: the official SDKs' cloud clients over real HTTP against the fake provider server, on
the paths, queries and authentication each platform uses, under each parser the kind has."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cloud_fixtures import (  # noqa: F401 (cloud_env is a fixture)
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    AZURE_KEY,
    BEDROCK_KEY,
    CLOUD_CASES,
    MODELS,
    REGION,
    VERTEX_TOKEN,
    cloud_env,
    expected_path,
    provider_entry,
    service_account_file,
)
from conftest import StreamOutcome, collect_stream
from parser_outcomes import outcome_of
from secret_search import found_in, outputs_of

from llm_dispatch import Client, Dispatcher, llm_stream
from llm_dispatch.providers.base import Provider, ProviderSettings
from llm_dispatch.providers.kinds import base_kind
from llm_dispatch.providers.registry import create_provider
from llm_dispatch.request import Message, Request
from llm_dispatch.testing import FakeProviderServer, RecordedRequest, Script

pytestmark = pytest.mark.usefixtures("cloud_env")

CHUNKS = ["Hel", "lo", ", clo", "ud ", "wor", "ld!\n", "Bye."]
SECRETS = [AZURE_KEY, VERTEX_TOKEN, AWS_SECRET_KEY, BEDROCK_KEY, "CANARY"]
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


def check_authentication(kind: str, rec: RecordedRequest) -> None:
    """The request carried the kind's credential where its platform wants it (compared,
    never shown: the messages name the header only)."""
    authorization = header(rec, "authorization") or ""
    if kind == "azure_openai":
        assert header(rec, "api-key") == AZURE_KEY, "api-key header"
        assert not authorization, "no Authorization header besides api-key"
    elif kind in ("google_vertex", "anthropic_vertex"):
        assert authorization == f"Bearer {VERTEX_TOKEN}", "bearer token"
        assert header(rec, "x-goog-api-key") is None and header(rec, "x-api-key") is None
    else:
        # SigV4 with the environment's AWS keys, for Bedrock in the configured region.
        scope = f"Credential={AWS_ACCESS_KEY}/"
        assert authorization.startswith("AWS4-HMAC-SHA256 "), "SigV4 signature"
        assert scope in authorization and f"/{REGION}/bedrock/aws4_request" in authorization
        assert header(rec, "x-amz-date") is not None
        assert AWS_SECRET_KEY not in json.dumps(rec.headers), "the secret key is never sent"


@pytest.mark.parametrize(("kind", "parser"), CLOUD_CASES)
async def test_llm_stream_streams_a_full_answer(
    fake_server: FakeProviderServer, kind: str, parser: str
) -> None:
    name = f"my-{kind}"
    dispatcher = Dispatcher(
        {"providers": {name: provider_entry(fake_server, kind, parser)}}, fake=False
    )
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(12, 7)), provider=kind)

    @llm_stream(providers=[name], dispatcher=dispatcher, timeout=20)
    async def answer(prompt: str) -> Any:
        yield "the body is not called"

    try:
        stream = answer("Say hello from the cloud")
        received = [chunk async for chunk in stream]
    finally:
        await dispatcher.aclose()

    assert received == CHUNKS
    assert stream.get_text() == "".join(CHUNKS)
    assert stream.usage is not None and not stream.usage.estimated
    assert (stream.usage.prompt_tokens, stream.usage.completion_tokens) == (12, 7)
    assert stream.finish_reason == "stop"
    assert (stream.provider, stream.model) == (name, MODELS[kind])
    [rec] = fake_server.requests
    assert (rec.provider, rec.model) == (kind, MODELS[kind])
    assert rec.path == expected_path(kind, MODELS[kind])
    assert rec.prompt == "Say hello from the cloud"
    assert rec.completed and not rec.disconnected
    check_authentication(kind, rec)
    if kind in ("anthropic_vertex", "anthropic_bedrock"):
        # The model travels in the path; the body names the API version instead.
        assert "model" not in rec.body and rec.body["anthropic_version"]


async def test_azure_deployment_takes_every_request(
    fake_server: FakeProviderServer, cloud_provider: Callable[..., Provider]
) -> None:
    provider = cloud_provider("azure_openai", deployment="prod-east")

    outcome = await collect_stream(provider, SAY_HI, "gpt-4o-prod")

    assert outcome.error is None
    [rec] = fake_server.requests
    assert rec.path == expected_path("azure_openai", "prod-east")
    # Azure's reasoning models need max_completion_tokens; it goes as that name.
    request = Request(messages=SAY_HI.messages, max_tokens=50)
    assert (await collect_stream(provider, request, "gpt-4o-prod")).error is None
    assert fake_server.requests[1].body["max_completion_tokens"] == 50
    assert "max_tokens" not in fake_server.requests[1].body


async def test_bedrock_api_key_is_a_bearer_token(
    fake_server: FakeProviderServer, cloud_provider: Callable[..., Provider]
) -> None:
    provider = cloud_provider("anthropic_bedrock", api_key=BEDROCK_KEY)

    outcome = await collect_stream(provider, SAY_HI, MODELS["anthropic_bedrock"])

    assert outcome.error is None and outcome.final.finish_reason == "stop"
    assert header(fake_server.requests[0], "authorization") == f"Bearer {BEDROCK_KEY}"


# -- failures, classified as for the base kind ----------------------------------------------

STATUS_KINDS = [(429, "rate_limit"), (401, "auth"), (403, "auth"), (404, "not_found"),
                (500, "server"), (503, "overloaded")]  # fmt: skip


async def scripted_outcome(
    server: FakeProviderServer, provider: Provider, kind: str, script: Script
) -> StreamOutcome:
    server.enqueue(script, provider=kind)
    return await collect_stream(provider, SAY_HI, MODELS[kind])


def check_secret_free(outcome: StreamOutcome) -> None:
    assert outcome.error is not None
    found = found_in(outputs_of(outcome.error), SECRETS)
    assert not found, f"the error shows secret(s) {len(found)}"


@pytest.mark.parametrize(("kind", "parser"), CLOUD_CASES)
async def test_error_statuses_are_classified(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    kind: str,
    parser: str,
) -> None:
    provider = cloud_provider(kind, parser)
    for status, expected in STATUS_KINDS:
        script = Script(status=status, retry_after=2 if status == 429 else None)
        outcome = await scripted_outcome(fake_server, provider, kind, script)
        assert outcome.error is not None, status
        assert (outcome.error.kind.value, outcome.error.status_code) == (expected, status)
        assert outcome.error.provider == f"my-{kind}" and not outcome.events
        if status == 429:
            assert outcome.error.retry_after == 2
        check_secret_free(outcome)
    assert [r.status for r in fake_server.requests] == [s for s, _ in STATUS_KINDS]


# (the script's fault, the error kind it must end in)
FAULTS = [
    ({"error_event_after": 2, "error_kind": "rate_limit"}, "rate_limit"),
    ({"error_event_after": 2, "error_kind": "overloaded"}, "overloaded"),
    ({"error_event_after": 2, "error_kind": "server"}, "server"),
    ({"cut_after": 2}, "incomplete"),
    ({"drop_after": 2}, "connection"),
    ({"malformed_after": 2}, "malformed"),
]


@pytest.mark.parametrize(("kind", "parser"), CLOUD_CASES)
async def test_mid_stream_faults_keep_the_text_and_name_the_failure(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    kind: str,
    parser: str,
) -> None:
    provider = cloud_provider(kind, parser)
    for fault, expected in FAULTS:
        outcome = await scripted_outcome(
            fake_server, provider, kind, Script(chunks=CHUNKS, **fault)
        )
        assert outcome.texts == CHUNKS[:2], fault
        assert outcome.error is not None and outcome.error.kind.value == expected, fault
        check_secret_free(outcome)


# -- credentials from the environment --------------------------------------------------------


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


# -- every shape and fault, as the base kind reads it ---------------------------------------


def _base_scripts(kind: str) -> dict[str, Script]:
    """The shapes and faults the base kind's parser tests script."""
    if kind == "azure_openai":
        from test_openai_parsers import SCRIPTS
    elif kind == "google_vertex":
        from test_google_parsers import SCRIPTS
    else:
        from test_anthropic_parsers import SCRIPTS
    return SCRIPTS


async def _outcome(
    server: FakeProviderServer, provider: Provider, kind: str, script: Script, model: str
) -> dict[str, Any]:
    server.enqueue(copy.copy(script), provider=kind)
    outcome = await collect_stream(provider, SAY_HI, model)
    return outcome_of(outcome.events, outcome.error)


@pytest.mark.parametrize(
    "kind", ["azure_openai", "google_vertex", "anthropic_vertex", "anthropic_bedrock"]
)
async def test_every_shape_and_fault_reads_as_on_the_base_kind_under_each_parser(
    fake_server: FakeProviderServer,
    cloud_provider: Callable[..., Provider],
    kind: str,
) -> None:
    base = base_kind(kind)
    reference = create_provider(
        ProviderSettings(
            name=f"my-{kind}", kind=base, api_key="k", base_url=fake_server.base_url_for(base)
        )
    )
    parsers = [parser for cloud, parser in CLOUD_CASES if cloud == kind]
    providers = [cloud_provider(kind, parser) for parser in parsers]
    try:
        for name, script in _base_scripts(kind).items():
            expected = await _outcome(fake_server, reference, base, script, MODELS[kind])
            assert expected["events"] or expected["error"], name
            for provider in providers:
                got = await _outcome(fake_server, provider, kind, script, MODELS[kind])
                assert got == expected, (name, provider.settings.parser)
    finally:
        await reference.aclose()
