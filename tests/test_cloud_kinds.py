"""The cloud kinds (Azure OpenAI, Gemini and Claude on Vertex AI, Claude on Bedrock) end to
end: the official SDKs' cloud clients over real HTTP against the fake provider server, on
the paths, queries and authentication each platform uses, under each parser the kind has;
every shape and fault read as on the base kind."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from cloud_fixtures import (
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    AZURE_KEY,
    BEDROCK_KEY,
    CLOUD_CASES,
    MODELS,
    REGION,
    SAY_HI,
    VERTEX_TOKEN,
    expected_path,
    header,
    provider_entry,
)
from conftest import StreamOutcome, collect_stream
from parser_outcomes import outcome_of
from secret_search import found_in, outputs_of

from llm_dispatch import Dispatcher, llm_stream
from llm_dispatch.providers.base import Provider, ProviderSettings
from llm_dispatch.providers.kinds import base_kind
from llm_dispatch.providers.registry import create_provider
from llm_dispatch.request import Request
from llm_dispatch.testing import FakeProviderServer, RecordedRequest, Script

pytestmark = pytest.mark.usefixtures("cloud_env")

CHUNKS = ["Hel", "lo", ", clo", "ud ", "wor", "ld!\n", "Bye."]
SECRETS = [AZURE_KEY, VERTEX_TOKEN, AWS_SECRET_KEY, BEDROCK_KEY, "CANARY"]


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
