"""Provider options (``Request.options``) through each official SDK to the fake server."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from llm_dispatch.errors import BadRequestError
from llm_dispatch.providers.options import PROVIDER_OPTIONS
from llm_dispatch.providers.registry import PROVIDER_KINDS
from llm_dispatch.testing import Script

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

MODEL = "test-model"
SAFETY = [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_ONLY_HIGH"}]

#: Every option each kind applies, and where it shows in the request: the body (by path),
#: a header or the query string.
OPTIONS: dict[str, dict[str, Any]] = {
    "openai": {
        "top_p": 0.5,
        "seed": 7,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "user": "user-1",
        "service_tier": "flex",
        "logit_bias": {"50256": -100},
        "logprobs": True,
        "top_logprobs": 2,
        "reasoning_effort": "low",
        "metadata": {"team": "search"},
        "store": False,
        "extra_body": {"repetition_penalty": 1.1},
        "extra_headers": {"X-Trace-Id": "trace-1"},
        "extra_query": {"api-version": "2024-10-21"},
    },
    "anthropic": {
        "top_p": 0.5,
        "top_k": 40,
        "metadata": {"user_id": "user-1"},
        "service_tier": "standard_only",
        "cache_control": {"type": "ephemeral", "ttl": "1h"},
        "extra_body": {"inference_geo": "eu"},
        "extra_headers": {"X-Trace-Id": "trace-1"},
        "extra_query": {"beta": "true"},
    },
    "google": {
        "top_p": 0.5,
        "top_k": 40,
        "seed": 7,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "safety_settings": SAFETY,
        "response_logprobs": True,
        "logprobs": 2,
        "extra_headers": {"X-Trace-Id": "trace-1"},
        "extra_body": {"generationConfig": {"candidateCount": 1}, "labels": {"team": "search"}},
    },
}
EXPECTED_BODY: dict[str, dict[tuple[str, ...], Any]] = {
    "openai": {
        **{(name,): value for name, value in OPTIONS["openai"].items() if "extra" not in name},
        ("repetition_penalty",): 1.1,
        ("temperature",): 0.3,
    },
    "anthropic": {
        ("top_p",): 0.5,
        ("top_k",): 40,
        ("metadata",): {"user_id": "user-1"},
        ("service_tier",): "standard_only",
        ("cache_control",): {"type": "ephemeral", "ttl": "1h"},
        ("inference_geo",): "eu",
        ("temperature",): 0.3,
    },
    "google": {
        ("generationConfig", "topP"): 0.5,
        ("generationConfig", "topK"): 40,
        ("generationConfig", "seed"): 7,
        ("generationConfig", "presencePenalty"): 0.1,
        ("generationConfig", "frequencyPenalty"): 0.2,
        ("generationConfig", "responseLogprobs"): True,
        ("generationConfig", "logprobs"): 2,
        ("generationConfig", "candidateCount"): 1,
        ("generationConfig", "temperature"): 0.3,
        ("safetySettings",): SAFETY,
        ("labels",): {"team": "search"},
    },
}
QUERY = {"openai": "api-version=2024-10-21", "anthropic": "beta=true", "google": None}


def at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


async def test_every_option_reaches_the_wire(
    fake_server, sdk_provider, collect, ask, sent_headers, kind
) -> None:
    request = ask(temperature=0.3, options=OPTIONS[kind])

    outcome = await collect(sdk_provider(kind), request, MODEL)

    assert outcome.error is None
    rec = fake_server.requests[0]
    assert {path: at(rec.body, path) for path in EXPECTED_BODY[kind]} == EXPECTED_BODY[kind]
    assert sent_headers()["x-trace-id"] == "trace-1"
    if QUERY[kind] is not None:
        assert rec.path.endswith(f"?{QUERY[kind]}")
    # The conversation is untouched by the options.
    assert rec.messages == [{"role": "user", "content": "say hi"}]


def test_the_options_tested_are_every_option_a_kind_applies(kind) -> None:
    assert set(OPTIONS[kind]) == PROVIDER_OPTIONS[kind]


def test_there_are_option_names_for_every_provider_kind() -> None:
    assert set(PROVIDER_OPTIONS) == set(PROVIDER_KINDS)


def test_the_option_names_are_what_the_installed_sdks_take() -> None:
    from anthropic.resources.messages import AsyncMessages
    from google.genai import types
    from openai.resources.chat.completions import AsyncCompletions

    openai_args = inspect.signature(AsyncCompletions.create).parameters
    assert PROVIDER_OPTIONS["openai"] <= set(openai_args)
    # top_p and top_k are no messages.create arguments in this SDK: they go in extra_body.
    anthropic_args = inspect.signature(AsyncMessages.create).parameters
    assert PROVIDER_OPTIONS["anthropic"] - set(anthropic_args) == {"top_p", "top_k"}
    config_fields = set(types.GenerateContentConfig.model_fields)
    http_fields = set(types.HttpOptions.model_fields)
    assert PROVIDER_OPTIONS["google"] - config_fields == {"extra_headers", "extra_body"}
    assert {"headers", "extra_body"} <= http_fields


async def test_an_unknown_option_is_refused_before_sending(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    request = ask(options={"top_p": 0.5, "top_q": 0.5})

    outcome = await collect(sdk_provider(kind), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert not outcome.error.is_retryable
    message = outcome.error.message
    assert "'top_q'" in message
    assert all(name in message for name in PROVIDER_OPTIONS[kind])  # the known ones
    assert fake_server.requests == []


async def test_extra_body_is_merged_with_a_continuations_own_fields(
    fake_server, sdk_provider, collect, ask, partial_answer
) -> None:
    request = partial_answer.model_copy(update={"options": {"extra_body": {"top_k": 20}}})
    provider = sdk_provider("openai", continuation="continue_final_message")

    outcome = await collect(provider, request, MODEL)

    assert outcome.error is None
    body = fake_server.requests[0].body
    assert (body["continue_final_message"], body["add_generation_prompt"]) == (True, False)
    assert body["top_k"] == 20


# An extra_body that would change a field the request sets, for each kind, and one that
# repeats it unchanged.
CLASHES = {
    "openai": ({"temperature": 0.9}, {"temperature": 0.3}),
    "anthropic": ({"temperature": 0.9}, {"temperature": 0.3}),
    "google": (
        {"generationConfig": {"temperature": 0.9}},
        {"generation_config": {"temperature": 0.3}},
    ),
}


async def test_extra_body_may_not_change_a_field_the_request_sets(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    changed, same = CLASHES[kind]

    refused = await collect(
        sdk_provider(kind), ask(temperature=0.3, options={"extra_body": changed}), MODEL
    )
    accepted = await collect(
        sdk_provider(kind), ask(temperature=0.3, options={"extra_body": same}), MODEL
    )

    assert isinstance(refused.error, BadRequestError)
    assert "temperature" in refused.error.message
    assert accepted.error is None
    assert len(fake_server.requests) == 1


async def test_extra_body_may_not_replace_the_conversation(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    field = {"openai": "messages", "anthropic": "messages", "google": "contents"}[kind]

    outcome = await collect(sdk_provider(kind), ask(options={"extra_body": {field: []}}), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert repr(field) in outcome.error.message
    assert fake_server.requests == []


@pytest.mark.parametrize(
    "options",
    [{"extra_headers": "X-Trace-Id: 1"}, {"extra_headers": {"X-Count": 3}}, {"extra_body": [1]}],
    ids=["headers-not-a-mapping", "header-value-not-text", "body-not-a-mapping"],
)
async def test_a_malformed_mapping_option_is_refused(
    fake_server, sdk_provider, collect, ask, kind, options
) -> None:
    outcome = await collect(sdk_provider(kind), ask(options=options), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert repr(next(iter(options))) in outcome.error.message
    assert fake_server.requests == []


async def test_a_generation_config_gemini_refuses_is_a_bad_request(
    fake_server, sdk_provider, collect, ask
) -> None:
    outcome = await collect(sdk_provider("google"), ask(options={"top_k": "many"}), MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert "top_k" in outcome.error.message
    assert "many" not in outcome.error.message  # values are not echoed
    assert fake_server.requests == []


TOP_P_AT = {"openai": ("top_p",), "anthropic": ("top_p",), "google": ("generationConfig", "topP")}


async def test_an_option_set_to_none_is_not_sent(
    fake_server, sdk_provider, collect, ask, kind
) -> None:
    outcome = await collect(sdk_provider(kind), ask(options={"top_p": None}), MODEL)

    assert outcome.error is None
    with pytest.raises(KeyError):
        at(fake_server.requests[0].body, TOP_P_AT[kind])


async def test_header_values_of_a_call_never_reach_its_error(
    fake_server, sdk_provider, collect, ask, sent_headers, kind
) -> None:
    # A server that echoes the request's headers in its error body (some proxies do).
    tenant = "tenant-credential-4f9a2c"
    fake_server.enqueue(
        Script(status=400, error_message=f"bad header X-Tenant: {tenant}"), provider=kind
    )
    request = ask(options={"extra_headers": {"X-Tenant": tenant}})

    outcome = await collect(sdk_provider(kind), request, MODEL)

    assert isinstance(outcome.error, BadRequestError)
    assert sent_headers()["x-tenant"] == tenant  # it was sent
    shown = [str(outcome.error), repr(outcome.error), repr(request)]
    cause = outcome.error.__cause__
    while cause is not None:
        shown.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    assert not [text for text in shown if tenant in text]
    assert "[redacted]" in str(outcome.error)
