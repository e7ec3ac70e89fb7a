"""Fixtures shared by the test suite."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from llm_dispatch.errors import ProviderError
from llm_dispatch.events import ProviderEvent
from llm_dispatch.providers import create_provider
from llm_dispatch.providers.base import (
    FAST_PARSER_KINDS,
    STREAM_PARSERS,
    Provider,
    ProviderSettings,
)
from llm_dispatch.request import Message, Request
from llm_dispatch.testing import FakeProviderServer

# The shared checks of the reliability suite report their assertions as test modules do.
pytest.register_assert_rewrite("reliability", "secret_search")

# Variables through which the SDKs (or an HTTP proxy) could send a test anywhere but the
# fake server on 127.0.0.1.
PROVIDER_ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_CUSTOM_HEADERS",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_PROFILE",
    "ANTHROPIC_CUSTOM_HEADERS",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_ENTERPRISE",
    "GOOGLE_GENAI_HTTP_CLIENT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


# The package's own fixture, as an application's suite would use it; private_redis (a
# redis-server of the test's own, tests/private_redis.py); cloud_fixtures (the cloud kinds'
# providers and an environment without cloud credentials, tests/cloud_fixtures.py).
pytest_plugins = ["llm_dispatch.testing.pytest_plugin", "private_redis", "cloud_fixtures"]


@pytest.fixture
def fake_server(fake_provider_server: FakeProviderServer) -> FakeProviderServer:
    """A fake OpenAI / Anthropic / Gemini server on 127.0.0.1 (a fresh one per test)."""
    return fake_provider_server


@pytest.fixture
def clean_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every provider key / endpoint / proxy variable for the test."""
    for name in PROVIDER_ENV_VARS:
        monkeypatch.delenv(name, raising=False)


# -- SDK providers against the fake server --------------------------------------------------

#: Keys the fake server accepts; shaped like real ones so redaction patterns apply too.
TEST_KEYS = {
    "openai": "sk-test-0123456789abcdef",
    "anthropic": "sk-ant-test-0123456789abcdef",
    "google": "AIzaTEST0123456789abcdefghijkl",
}


#: The SDK provider kinds, each of which the provider tests drive the same way.
SDK_KINDS = ("openai", "anthropic", "google")


@pytest.fixture(params=SDK_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """Each SDK provider kind in turn: a test that takes ``kind`` runs once per kind (unless
    it parametrizes ``kind`` itself)."""
    return str(request.param)


def ask_for(*messages: Message, **fields: Any) -> Request:
    """A request of ``messages`` (default: one user message, "say hi") and Request ``fields``."""
    turns = messages or (Message(role="user", content="say hi"),)
    return Request(messages=turns, **fields)


@pytest.fixture
def ask() -> Callable[..., Request]:
    """:func:`ask_for`, for tests to build the request they send."""
    return ask_for


@pytest.fixture
def say_hi() -> Request:
    """The one-message request ("say hi") most provider tests send."""
    return ask_for()


@pytest.fixture
def partial_answer() -> Request:
    """A continuation request: its last message is the assistant's partial answer."""
    return ask_for(
        Message(role="user", content="Count to five."),
        Message(role="assistant", content="One, two,"),
    )


@pytest.fixture
def person_schema() -> dict[str, Any]:
    """A small JSON schema for the JSON-mode tests."""
    return {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@pytest.fixture
def sent_headers(fake_server: FakeProviderServer) -> Callable[..., dict[str, str]]:
    """The headers of ``fake_server``'s request ``index`` (default: the first), with names in
    lowercase."""

    def headers(index: int = 0) -> dict[str, str]:
        return {k.lower(): v for k, v in fake_server.requests[index].headers.items()}

    return headers


@dataclass
class StreamOutcome:
    """Everything one provider stream produced: its events, and the error that ended it."""

    events: list[ProviderEvent] = field(default_factory=list)
    error: ProviderError | None = None

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.events if e.text]

    @property
    def final(self) -> ProviderEvent:
        return self.events[-1]


async def collect_stream(provider: Provider, request: Request, model: str) -> StreamOutcome:
    """Drain ``provider.stream``; a ProviderError ends the outcome, anything else fails."""
    outcome = StreamOutcome()
    try:
        async for event in provider.stream(request, model):
            outcome.events.append(event)
    except ProviderError as exc:
        outcome.error = exc
    return outcome


@pytest.fixture
def stream_parser(request: pytest.FixtureRequest) -> str | None:
    """The ``parser`` of the providers :func:`sdk_provider` and :func:`make_dispatcher`
    build (of the kinds in ``FAST_PARSER_KINDS``): None (the kind's default, ``fast``),
    except in modules marked ``stream_parsers``, whose tests run under each parser (see
    :func:`pytest_generate_tests`)."""
    param = getattr(request, "param", None)
    return None if param is None else str(param)


#: The parsers a ``stream_parsers`` module runs under: ``fast`` (the default) in every run,
#: ``sdk`` among the heavy tests (``.ci/run`` runs them), to keep the default run short.
_PARSER_PARAMS = [
    pytest.param(parser, marks=pytest.mark.heavy) if parser == "sdk" else parser
    for parser in STREAM_PARSERS
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test of a module marked ``stream_parsers`` that builds providers runs once per
    stream parser (``fast``; ``sdk`` among the heavy tests); its runs under ``fast`` for a
    kind without a fast parser are deselected (:func:`pytest_collection_modifyitems`)."""
    if "stream_parser" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "stream_parsers"
    ):
        metafunc.parametrize("stream_parser", _PARSER_PARAMS, indirect=True)


#: The provider kind of a test's ``provider`` parameter where that is no kind itself.
_PROVIDER_PARAM_KINDS = {"responses": "openai"}


def _kind_of(params: dict[str, Any]) -> str:
    """The provider kind a test's parameters name: ``kind``, else ``provider`` (OpenAI's
    ``responses`` API is the ``openai`` kind), else ``openai``."""
    if "kind" in params:
        return str(params["kind"])
    provider = str(params.get("provider", "openai"))
    return _PROVIDER_PARAM_KINDS.get(provider, provider)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the ``fast`` runs of a test for a kind not in ``FAST_PARSER_KINDS``."""
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        no_fast = _kind_of(params) not in FAST_PARSER_KINDS
        (dropped if params.get("stream_parser") == "fast" and no_fast else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture
async def sdk_provider(
    fake_server: FakeProviderServer, clean_provider_env: None, stream_parser: str | None
) -> AsyncIterator[Callable[..., Provider]]:
    """Build providers aimed at ``fake_server`` (kind, then ProviderSettings overrides);
    every one is closed after the test. Those of a kind with a fast parser are read with
    ``stream_parser``."""
    made: list[Provider] = []

    def make(kind: str, **overrides: Any) -> Provider:
        fields: dict[str, Any] = {
            "name": kind,
            "kind": kind,
            "api_key": TEST_KEYS[kind],
            "base_url": fake_server.base_url_for(kind),
            **({"parser": stream_parser} if stream_parser and kind in FAST_PARSER_KINDS else {}),
            **overrides,
        }
        provider = create_provider(ProviderSettings(**fields))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.aclose()


@pytest.fixture
def collect() -> Callable[[Provider, Request, str], Awaitable[StreamOutcome]]:
    """:func:`collect_stream`, for tests to drain a provider stream."""
    return collect_stream


@pytest.fixture
def provider_keys() -> dict[str, str]:
    """The API key each ``sdk_provider`` kind is configured with."""
    return dict(TEST_KEYS)


# -- dispatchers against the fake server ----------------------------------------------------

#: Models the dispatcher fixtures configure for each provider.
TEST_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "google": "gemini-2.5-flash",
}

#: Fast retries so policy tests do not sleep long (Retry-After still applies as sent).
FAST_RETRY = {"backoff_base": 0.01, "backoff_max": 0.02, "jitter": 0.0}


def fake_providers(
    server: FakeProviderServer, stream_parser: str | None = None, **extra: dict[str, Any]
) -> dict[str, Any]:
    """Provider entries pointing the three SDK providers (and ``extra`` ones) at ``server``;
    those of a kind with a fast parser (``extra`` ones too, unless they name a parser) read
    their streams with ``stream_parser`` (None: the kind's default)."""
    providers: dict[str, Any] = {
        kind: {
            "kind": kind,
            "api_key": TEST_KEYS[kind],
            "base_url": server.base_url_for(kind),
            "default_model": TEST_MODELS[kind],
        }
        for kind in TEST_MODELS
    }
    if stream_parser is not None:
        for kind in FAST_PARSER_KINDS & providers.keys():
            providers[kind]["parser"] = stream_parser
    for name, entry in extra.items():
        fast = entry.get("kind") in FAST_PARSER_KINDS and "parser" not in entry
        providers[name] = {**entry, "parser": stream_parser} if fast and stream_parser else entry
    return providers


@pytest.fixture
async def make_dispatcher(
    fake_server: FakeProviderServer, clean_provider_env: None, stream_parser: str | None
) -> AsyncIterator[Callable[..., Any]]:
    """Build a Dispatcher whose providers are served by ``fake_server``.

    Keyword arguments: ``routes``, ``defaults`` (merged over fast retries), ``providers``
    (extra provider entries), anything else goes to ``Dispatcher``.
    """
    from llm_dispatch import Dispatcher

    made: list[Any] = []

    def make(
        *,
        routes: dict[str, Any] | None = None,
        defaults: dict[str, Any] | None = None,
        providers: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        defaults = dict(defaults or {})
        defaults["retry"] = {**FAST_RETRY, **defaults.get("retry", {})}
        config: dict[str, Any] = {
            "providers": fake_providers(fake_server, stream_parser, **(providers or {})),
            "defaults": defaults,
        }
        if routes is not None:
            config["routes"] = routes
        dispatcher = Dispatcher(config, **kwargs)
        made.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in made:
        await dispatcher.aclose()


# -- secret canaries ------------------------------------------------------------------------

#: API keys that must never show: shaped like real ones (so pattern-based redaction is not
#: what hides them), each carrying the word CANARY. The fake server accepts any key.
CANARY_KEYS = {
    "openai": "sk-proj-CANARYkeyOPENAI0123456789abcd",
    "anthropic": "sk-ant-api03-CANARYkeyANTHROPIC0123",
    "google": "AIzaCANARYkeyGOOGLE0123456789abcdef",
}


class SecretCanary:
    """The canaries of one test, the library's log records it captured (DEBUG and up), and
    the exceptions handed to :meth:`check`."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.keys = dict(CANARY_KEYS)
        self.canaries = [*CANARY_KEYS.values(), "CANARY"]
        self.events = events

    def check(self, exc: BaseException) -> None:
        """Fail if ``exc`` (its message, repr, traceback, chain, attributes) shows a canary."""
        from secret_search import found_in, outputs_of

        found = found_in(outputs_of(exc), self.canaries)
        assert not found, f"{type(exc).__name__} shows the secret(s) {found}"

    def check_logs(self) -> None:
        from secret_search import found_in, rendered

        found = found_in(rendered(self.events), self.canaries)
        assert not found, f"the library's log records show the secret(s) {found}"


@pytest.fixture
def secret_canary(request: pytest.FixtureRequest) -> Iterator[SecretCanary]:
    """Canary API keys for the test's providers. The test fails if any library log record
    (captured at DEBUG) shows one, or if an exception the test raises or hands to
    ``check`` does."""
    from llm_dispatch.testing import capture_events

    with capture_events(logging.DEBUG) as events:
        canary = SecretCanary(events)
        request.node.stash[_CANARY] = canary
        yield canary
    canary.check_logs()


_CANARY = pytest.StashKey[SecretCanary]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A test using ``secret_canary`` whose own exception shows a canary fails for that too
    (and the report names the canary, never the text around it)."""
    report: Any = yield
    canary = item.stash.get(_CANARY, None)
    if canary is not None and call.excinfo is not None and call.when == "call":
        from secret_search import found_in, outputs_of

        found = found_in(outputs_of(call.excinfo.value), canary.canaries)
        if found:
            report.outcome = "failed"
            report.longrepr = f"the test's exception shows the secret(s) {found}"
    return report


# -- Redis ----------------------------------------------------------------------------------

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def redis_server_up() -> bool:
    import socket

    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``redis`` need the real server on 127.0.0.1:6379.

    Without it they are skipped with a notice, except where ``LLM_DISPATCH_REQUIRE_REDIS`` is
    set (CI sets it): there a missing server fails them, so Redis coverage cannot vanish
    silently.
    """
    if item.get_closest_marker("redis") is None or redis_server_up():
        return
    if os.environ.get("LLM_DISPATCH_REQUIRE_REDIS"):
        pytest.fail("LLM_DISPATCH_REQUIRE_REDIS is set but no Redis server is on 127.0.0.1:6379")
    pytest.skip("no Redis server on 127.0.0.1:6379 (start one to run the Redis tests)")
