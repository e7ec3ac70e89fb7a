"""No secret reaches any output: a canary of each kind (API key, HMAC key, URL password,
header value) is searched for in error messages, reprs, formatted tracebacks with their whole
chain, the attributes of every exception in it, and every log record, across success, 401,
500, an in-stream error, a timeout and configuration errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FAST_RETRY, TEST_MODELS
from secret_search import found_in, outputs_of, rendered

from llm_dispatch import ConfigError, Dispatcher, llm_stream
from llm_dispatch.cache import StreamingCache
from llm_dispatch.settings.loader import load_config
from llm_dispatch.testing import FakeProviderServer, Script, capture_events

KINDS = ["openai", "anthropic", "google"]
# Shaped like real keys, so that pattern-based redaction would not be what saves them.
API_KEYS = {
    "openai": "sk-proj-CANARYapikeyOPENAI0123456789",
    "anthropic": "sk-ant-api03-CANARYapikeyANTHROPIC0123",
    "google": "AIzaCANARYapikeyGOOGLE0123456789abc",
}
HEADER_VALUE = "Basic CANARYheaderVALUE0123"
URL_PASSWORD = "CANARYurlPASSWORD0123"
HMAC_KEY = "CANARYhmacKEY-0123456789abcdefghijklmnop"
CANARIES = [*API_KEYS.values(), HEADER_VALUE, URL_PASSWORD, HMAC_KEY, "CANARY"]


def echo(kind: str) -> str:
    """An error text that quotes the secrets back, as some APIs and proxies do."""
    return (
        f"Incorrect API key provided: {API_KEYS[kind]}. Proxy-Authorization was "
        f"{HEADER_VALUE}; see redis://user:{URL_PASSWORD}@cache.internal:6379"
    )


def assert_clean(text: str, where: str) -> None:
    found = found_in(text, CANARIES)
    assert not found, f"{where} shows {found}"


def dispatcher_for(server: FakeProviderServer, **defaults: Any) -> Dispatcher:
    providers = {
        kind: {
            "kind": kind,
            "api_key": API_KEYS[kind],
            "base_url": server.base_url_for(kind),
            "default_model": TEST_MODELS[kind],
            "extra_headers": {"Proxy-Authorization": HEADER_VALUE},
        }
        for kind in KINDS
    }
    return Dispatcher(
        {
            "providers": providers,
            "defaults": {
                "retry": {**FAST_RETRY, "max_retries": 1},
                # Unreachable on purpose: its warnings are outputs too.
                "circuit": {"store": f"redis://user:{URL_PASSWORD}@127.0.0.1:1/0"},
                **defaults,
            },
        }
    )


SCENARIOS = {
    "success": [Script(chunks=["fine ", "answer"])],
    "401": [Script(status=401, error_message="")],
    "500": [Script(status=500, error_message=""), Script(status=500, error_message="")],
    "in-stream error before text": [
        Script(chunks=["a ", "b"], error_event_after=0, error_kind="server", error_message=""),
        Script(chunks=["a ", "b"], error_event_after=0, error_kind="server", error_message=""),
    ],
    "in-stream error after text": [
        Script(chunks=["a ", "b ", "c"], error_event_after=1, error_kind="server", error_message="")
    ],
    "timeout": [Script(first_delay=3.0), Script(first_delay=3.0)],
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize("kind", KINDS)
async def test_no_secret_in_any_output(
    kind: str, scenario: str, fake_server: FakeProviderServer, clean_provider_env: None
) -> None:
    for script in SCENARIOS[scenario]:
        if script.error_message == "":
            script.error_message = echo(kind)
        fake_server.enqueue(script, provider=kind)
    dispatcher = dispatcher_for(fake_server, timeouts={"first_token": 0.5})
    cache = StreamingCache(backend=f"redis://:{URL_PASSWORD}@127.0.0.1:1/0", backend_timeout=0.2)

    @llm_stream(
        dispatcher=dispatcher,
        providers=[kind],
        cache=cache,
        embed_metadata={"hmac_key": HMAC_KEY},
        timeout=30,
    )
    async def answer(prompt: str) -> Any:
        yield "unused"

    error: BaseException | None = None
    with capture_events() as events:
        stream = answer("hi")
        try:
            await stream.collect()
        except Exception as exc:
            error = exc
        await cache.flush()
    try:
        assert (error is None) == (scenario == "success")
        if error is not None:
            assert_clean(outputs_of(error), f"{scenario} error")
        assert_clean(rendered(events), f"{scenario} logs")
        assert_clean(repr(stream) + repr(stream.attempts) + repr(stream.ledger), "the stream")
        assert_clean(repr(dispatcher.provider(kind)), "the provider")
        assert_clean(repr(dispatcher.config) + dispatcher.config.model_dump_json(), "config")
        assert_clean(repr(cache), "the cache")
        # The secrets did reach the server where they belong.
        headers = {k.lower(): v for k, v in fake_server.requests[0].headers.items()}
        assert headers["proxy-authorization"] == HEADER_VALUE
    finally:
        await dispatcher.aclose()
        await cache.aclose()


def test_no_secret_in_configuration_errors(tmp_path: Path, clean_provider_env: None) -> None:
    path = tmp_path / "dispatch.yaml"
    path.write_text(
        "providers:\n"
        "  openai:\n"
        "    kind: openai\n"
        f"    api_key: {API_KEYS['openai']}\n"
        f"    extra_headers: {{Proxy-Authorization: '{HEADER_VALUE}'}}\n"
        "    default_model: gpt-4o-mini\n"
        "    timeouts: {first_tokn: 3}\n"  # the error
        "defaults:\n"
        "  circuit:\n"
        f"    store: redis://user:{URL_PASSWORD}@127.0.0.1:6379/0\n"
        "embedding:\n"
        f"  hmac_key: {HMAC_KEY}\n"
        "  target: nowhere\n"  # another error
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "first_tokn" in str(caught.value)
    assert_clean(outputs_of(caught.value), "a config error")
