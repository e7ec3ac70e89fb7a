"""Switching the observability on and off: what it costs when off (no import, no stage, no
observer), what a missing package says, the arguments it refuses, the names it uses
against the OpenTelemetry semantic conventions, and secrets kept out of every attribute
and label."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import PROVIDER_ENV_VARS, fake_providers
from observability_capture import Telemetry, telemetry  # noqa: F401  (the fixture)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

import llm_dispatch
from llm_dispatch import Stage, StreamInterrupted, llm_stream, stream_hooks
from llm_dispatch.observability import instrument, instrumentation, names
from llm_dispatch.testing import FakeProviderServer, Script

ROOT = Path(llm_dispatch.__file__).resolve().parents[1]


def run_python(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter on this checkout; its stdout lines."""
    # Offline, with no provider key, endpoint or proxy variable and no other LLM_DISPATCH_*.
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in PROVIDER_ENV_VARS and not name.startswith("LLM_DISPATCH_")
    }
    env.update(PYTHONPATH=str(ROOT), LLM_DISPATCH_FAKE="1")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
        env=env,
    )
    return out.stdout.splitlines()


def test_off_a_stream_imports_neither_package() -> None:
    # A whole stream (the OpenAI SDK against the offline fake server), with the observability
    # package imported but nothing switched on.
    code = (
        "import asyncio, sys\n"
        "import llm_dispatch.observability\n"
        "from llm_dispatch import llm_stream, stream_hooks\n"
        "@llm_stream(providers=['openai'])\n"
        "async def ask(prompt):\n"
        "    yield 'unused'\n"
        "async def main():\n"
        "    return (await ask('hi').collect()).get_text()\n"
        "text = asyncio.run(main())\n"
        "print(bool(text), stream_hooks.installed() is stream_hooks.NO_HOOKS)\n"
        "packages = ('opentelemetry', 'prometheus_client')\n"
        "print([m for m in sys.modules if m.split('.')[0] in packages])\n"
    )
    assert run_python(code) == ["True True", "[]"]


@pytest.mark.parametrize(
    ("blocked", "arguments", "extra"),
    [
        ("opentelemetry", "", "llm-dispatch[otel]"),
        ("prometheus_client", "traces=False, metrics=False, prometheus=True", "[prometheus]"),
    ],
)
def test_a_missing_package_says_which_extra_to_install(
    blocked: str, arguments: str, extra: str
) -> None:
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "from llm_dispatch.observability import instrument, instrumentation\n"
        "try:\n"
        f"    instrument({arguments})\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "print(instrumentation())\n"
    )
    message, left_on = run_python(code)
    assert extra in message and "not installed" in message
    assert left_on == "None"


def test_the_arguments_it_refuses() -> None:
    with pytest.raises(ValueError, match="tracer_provider is given but traces=False"):
        instrument(tracer_provider=TracerProvider(), traces=False)
    with pytest.raises(ValueError, match="prometheus_registry is given but prometheus=False"):
        instrument(prometheus_registry=CollectorRegistry(), prometheus=False)
    with pytest.raises(ValueError, match="all off"):
        instrument(traces=False, metrics=False)
    assert instrumentation() is None


async def test_switched_off_streams_are_not_observed(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = CollectorRegistry()
    dispatcher = make_dispatcher()
    seen = Watched()

    @llm_stream(dispatcher=dispatcher, providers=["openai"], stages=(seen,))
    async def answer(prompt: str) -> Any:
        yield "unused"

    with instrument(tracer_provider=provider, metrics=False, prometheus_registry=registry) as on:
        assert on.active and instrumentation() is on
        await answer("hi").collect()
    assert not on.active and instrumentation() is None
    assert stream_hooks.installed() is stream_hooks.NO_HOOKS
    await answer("hi").collect()

    assert len(exporter.get_finished_spans()) == 2  # the first stream and its one try
    assert seen.watched == [True, False]
    # Switched off, its collectors left the registry: it can be given again.
    assert registry.get_sample_value("llm_dispatch_requests_total", OK) is None
    with instrument(tracer_provider=provider, metrics=False, prometheus_registry=registry):
        await answer("hi").collect()
        assert registry.get_sample_value("llm_dispatch_requests_total", OK) == 1


OK = {"provider": "openai", "model": "gpt-4o-mini", "outcome": "ok", "error_type": ""}


class Watched(Stage):
    """Whether each stream it ran in was watched (the observability stage's key)."""

    def __init__(self) -> None:
        self.watched: list[bool] = []

    async def on_end(self, ctx: Any) -> str:
        self.watched.append("observability.watch" in ctx.values)
        return ""


async def test_a_stream_keeps_the_hooks_it_started_with(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.default = Script(chunks=["a ", "b ", "c"])
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen = Watched()

    @llm_stream(dispatcher=make_dispatcher(), providers=["openai"], stages=(seen,))
    async def answer(prompt: str) -> Any:
        yield "unused"

    async with asyncio.timeout(10):
        with instrument(tracer_provider=provider, metrics=False):
            watched = aiter(answer("hi"))
            unwatched = answer("hi")  # made now, started once switched off
            assert await anext(watched) == "a "
        assert [chunk async for chunk in watched] == ["b ", "c"]
        await unwatched.collect()

    assert seen.watched == [True, False]
    spans = exporter.get_finished_spans()
    assert len(spans) == 2  # the watched stream and its one try, ended after switching off
    assert all(span.end_time is not None for span in spans)


def test_the_names_are_the_semantic_conventions() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as gen_ai
        from opentelemetry.semconv._incubating.metrics import gen_ai_metrics
        from opentelemetry.semconv.attributes import error_attributes

    ours = {k: v for k, v in vars(names).items() if k.startswith("GEN_AI_")}
    theirs = {**vars(gen_ai), **vars(gen_ai_metrics)}
    assert ours and {k: theirs.get(k) for k in ours} == ours
    assert names.ERROR_TYPE == error_attributes.ERROR_TYPE
    assert gen_ai.GenAiOperationNameValues.CHAT.value == names.OPERATION
    assert (
        gen_ai.GenAiTokenTypeValues.INPUT.value,
        gen_ai.GenAiTokenTypeValues.OUTPUT.value,
    ) == (names.TOKEN_INPUT, names.TOKEN_OUTPUT)
    systems = {v.value for v in gen_ai.GenAiProviderNameValues}
    for kind in ("openai", "anthropic", "google"):
        assert names.provider_system(kind, "any") in systems


async def test_no_secret_in_any_attribute_or_label(
    telemetry: Telemetry,  # noqa: F811
    secret_canary: Any,
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    providers = fake_providers(fake_server)
    for kind, entry in providers.items():
        entry["api_key"] = secret_canary.keys[kind]
        entry["extra_headers"] = {"X-Token": f"{secret_canary.keys[kind]}-in-a-header"}
    said = f"bad key {secret_canary.keys['openai']}"
    fake_server.enqueue(Script(status=500, error_message=said), provider="openai", times=3)
    fake_server.enqueue(
        Script(chunks=["a ", "b ", "c"], error_event_after=1, error_message=said),
        provider="anthropic",
    )
    fake_server.enqueue(Script(chunks=["fine"]), provider="google")
    dispatcher = make_dispatcher(providers=providers)

    @llm_stream(dispatcher=dispatcher, providers=["openai", "anthropic"])
    async def failing(prompt: str) -> Any:
        yield "unused"

    @llm_stream(dispatcher=dispatcher, providers=["google"])
    async def fine(prompt: str) -> Any:
        yield "unused"

    with pytest.raises(StreamInterrupted) as raised:
        await failing("hi").collect()
    secret_canary.check(raised.value)
    await fine("hi").collect()

    spans = telemetry.spans()
    assert len(spans) == 2 + 3 + 1 + 1  # two streams; 3 OpenAI tries, Anthropic's, Google's
    shown = [repr((s.name, dict(s.attributes or {}), s.status, s.events)) for s in spans]
    data = telemetry.reader.get_metrics_data()
    shown.append(data.to_json() if data is not None else "")
    shown.append(telemetry.exposition())
    text = "\n".join(shown)
    assert "llm_dispatch_retries_total" in text and "gen_ai.client.token.usage" in text
    for canary in secret_canary.canaries:
        assert canary not in text
