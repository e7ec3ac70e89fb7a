"""``response_model=``: the schema sent natively, validated partial objects while the answer
streams, the parsed object at the end, and an error with the text and the validation
errors when the answer does not fit. Real HTTP through each SDK against the fake server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from conftest import TEST_KEYS, TEST_MODELS
from pydantic import BaseModel

from llm_dispatch import Client, StructuredOutputError, llm_stream, llm_stream_with_metadata
from llm_dispatch.cache import StreamingCache
from llm_dispatch.errors import ContentFilterError
from llm_dispatch.structured import parse_partial, partial_model
from llm_dispatch.testing import FakeProviderServer, Script

pytestmark = [pytest.mark.usefixtures("clean_provider_env"), pytest.mark.stream_parsers]

WIRE = {"openai": "openai", "anthropic": "anthropic", "google": "google", "responses": "openai"}


class Address(BaseModel):
    city: str
    zip_code: str


class Person(BaseModel):
    """A person."""

    name: str
    age: int
    tags: list[str]
    address: Address


PERSON = {
    "name": "Ada",
    "age": 36,
    "tags": ["math", "poetry"],
    "address": {"city": "London", "zip_code": "N1"},
}
ANSWER = json.dumps(PERSON)
# Cut so that strings, the number and the nested object arrive in pieces.
CHUNKS = [ANSWER[i : i + 7] for i in range(0, len(ANSWER), 7)]


def schema_sent(provider: str, body: dict[str, Any]) -> Any:
    """Where each provider's request carries the JSON schema."""
    if provider == "openai":
        return body["response_format"]["json_schema"]["schema"]
    if provider == "anthropic":
        return body["output_config"]["format"]["schema"]
    if provider == "responses":
        return body["text"]["format"]["schema"]
    config = body["generationConfig"]
    return config.get("responseJsonSchema", config.get("response_json_schema"))


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google", "responses"])
async def test_partials_stream_and_the_answer_is_parsed(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS), provider=WIRE[provider])
    responses = {
        "kind": "openai",
        "api": "responses",
        "api_key": TEST_KEYS["openai"],
        "base_url": fake_server.base_url_for("openai"),
        "default_model": TEST_MODELS["openai"],
    }

    @llm_stream_with_metadata(
        dispatcher=make_dispatcher(providers={"responses": responses}),
        providers=[provider],
        response_model=Person,
    )
    async def describe(prompt: str) -> Any:
        yield "offline stand-in"

    stream = describe("Describe Ada Lovelace")
    items = [m async for m in stream]

    assert schema_sent(provider, fake_server.requests[0].body) == Person.model_json_schema()
    partials = [m["partial"] for m in items if m["kind"] == "partial"]
    assert partials[-1] == PERSON
    assert {"name": "Ada"} in partials
    # A partial only ever grows, and never shows a number that is still being written.
    assert all(p.get("age") in (None, 36) for p in partials)
    assert len(partials) == len({json.dumps(p, sort_keys=True) for p in partials})
    assert all(m["chunk"] == "" for m in items if m["kind"] == "partial")
    assert isinstance(stream.parsed, Person) and stream.parsed.model_dump() == PERSON
    assert stream.get_text() == ANSWER


async def test_an_answer_that_does_not_fit_raises_with_text_and_errors(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    wrong = json.dumps({"name": "Ada", "age": "unknown", "tags": [], "address": {}})
    fake_server.enqueue(Script(chunks=[wrong]), provider="openai")

    @llm_stream(dispatcher=make_dispatcher(), providers=["openai"], response_model=Person)
    async def describe(prompt: str) -> Any:
        yield "offline stand-in"

    with pytest.raises(StructuredOutputError) as caught:
        await describe("Describe Ada").collect()

    error = caught.value
    assert error.text == wrong and error.model is Person
    locations = {".".join(map(str, e["loc"])) for e in error.errors}
    assert locations == {"age", "address.city", "address.zip_code"}
    assert "unknown" not in str(error)  # input values stay out of the message


async def test_an_answer_that_does_not_fit_is_never_stored(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    wrong = json.dumps({"name": "Ada"})
    fake_server.enqueue(Script(chunks=[wrong]), provider="openai")
    fake_server.enqueue(Script(chunks=CHUNKS), provider="openai")
    cache = StreamingCache()

    @llm_stream(
        dispatcher=make_dispatcher(), providers=["openai"], response_model=Person, cache=cache
    )
    async def describe(prompt: str) -> Any:
        yield "offline stand-in"

    with pytest.raises(StructuredOutputError):
        await describe("Describe Ada").collect()
    await cache.flush()
    second = await describe("Describe Ada").collect()

    assert len(fake_server.requests) == 2 and not second.context.cached
    assert second.parsed == Person.model_validate(PERSON)
    await cache.flush()
    assert cache.stats().stores == 1


async def test_the_client_takes_a_response_model(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS), provider="google")
    client = Client(dispatcher=make_dispatcher())

    stream = await client.stream_with_usage(
        "Describe Ada", provider="google", response_model=Person
    )

    assert stream.parsed == Person.model_validate(PERSON)
    with pytest.raises(TypeError, match="response_model or response_format, not both"):
        client.open("x", response_model=Person, response_format={"type": "json_object"})


def test_a_partial_never_shows_an_unfinished_number_or_literal() -> None:
    class Reading(BaseModel):
        label: str
        value: float
        ok: bool

    assert parse_partial(Reading, '{"label": "tn", "value": 12') == partial_model(Reading)(
        label="tn"
    )
    assert parse_partial(Reading, '{"label": "tru') == partial_model(Reading)(label="tru")
    assert parse_partial(Reading, '{"label": "x", "value": 1.5, "ok": tr') == partial_model(
        Reading
    )(label="x", value=1.5)
    assert parse_partial(Reading, "[1, 2") is None  # not an object


@pytest.mark.parametrize("provider", ["openai", "responses"])
async def test_a_structured_output_refusal_is_an_error_not_an_empty_answer(
    provider: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    # Chat completions stream the refusal as delta.refusal and then finish with "stop".
    refusal = Script(chunks=[], finish_reason="content_filter", error_message="I can't help.")
    fake_server.enqueue(refusal, provider="openai")
    responses = {
        "kind": "openai",
        "api": "responses",
        "api_key": TEST_KEYS["openai"],
        "base_url": fake_server.base_url_for("openai"),
        "default_model": TEST_MODELS["openai"],
    }

    @llm_stream(
        dispatcher=make_dispatcher(providers={"responses": responses}),
        providers=[provider],
        response_model=Person,
    )
    async def describe(prompt: str) -> Any:
        yield "offline stand-in"

    with pytest.raises(ContentFilterError) as caught:
        await asyncio.wait_for(describe("Describe Ada").collect(), 30)

    assert "I can't help." in str(caught.value)
    assert len(fake_server.requests) == 1  # a refusal is not retried
