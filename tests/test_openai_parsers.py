"""``parser: fast`` against ``parser: sdk``: the same events and the same errors for every
OpenAI wire shape and fault of the fake server, and for the raw forms it does not script;
the setting's validation."""

from __future__ import annotations

import textwrap
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from openai_raw import chunk, raw_chat_server
from parser_outcomes import assert_alike, assert_script_alike, both_parsers, outcome_of

from llm_dispatch.errors import ConfigError
from llm_dispatch.providers.base import FAST_PARSER_KINDS, ProviderSettings
from llm_dispatch.settings.loader import load_config
from llm_dispatch.testing import Script
from llm_dispatch.testing.script import ScriptedToolCall

pytestmark = pytest.mark.usefixtures("clean_provider_env")

MODEL = "gpt-4o-mini"
TEN = [f"w{i} " for i in range(10)]
CALLS = [ScriptedToolCall("get_weather", {"city": "Paris"}), ScriptedToolCall("get_time")]

SCRIPTS: dict[str, Script] = {
    "plain": Script(chunks=TEN),
    "usage": Script(chunks=TEN, usage=(7, 10)),
    "no-usage": Script(chunks=TEN, send_usage=False),
    "cached": Script(chunks=TEN, usage=(50, 10), cache_tokens=(0, 30)),
    "reasoning": Script(chunks=TEN, reasoning="let me think", reasoning_tokens=3),
    "sparse": Script(chunks=TEN, shape={"sparse"}),
    "unknown-events": Script(chunks=TEN, shape={"unknown_events"}),
    "unknown-fields": Script(chunks=TEN, shape={"unknown_fields"}),
    "every-shape": Script(chunks=TEN, shape={"sparse", "unknown_events", "unknown_fields"}),
    "length": Script(chunks=TEN, finish_reason="length"),
    "native-finish": Script(chunks=TEN, native_finish_reason="other"),
    "content-filter": Script(chunks=TEN[:3], finish_reason="content_filter"),
    "content-filter-no-text": Script(chunks=[], finish_reason="content_filter"),
    "tool-calls": Script(tool_calls=CALLS),
    "text-then-calls": Script(chunks=TEN[:2], tool_calls=CALLS),
    "interleaved-calls": Script(tool_calls=CALLS, interleave_tool_calls=True),
    "reasoning-then-call": Script(reasoning="think first", tool_calls=CALLS[:1]),
    "drop-before-text": Script(chunks=TEN, drop_after=0),
    "drop-after-text": Script(chunks=TEN, drop_after=4),
    "drop-in-a-call": Script(tool_calls=CALLS, drop_after=2),
    "cut-before-text": Script(chunks=TEN, cut_after=0),
    "cut-after-text": Script(chunks=TEN, cut_after=4),
    "malformed-before-text": Script(chunks=TEN, malformed_after=0),
    "malformed-after-text": Script(chunks=TEN, malformed_after=3),
    **{
        f"error-event-{kind}": Script(chunks=TEN, error_event_after=2, error_kind=kind)
        for kind in ("overloaded", "rate_limit", "server", "bad_request")
    },
    "error-event-before-text": Script(chunks=TEN, error_event_after=0),
    **{f"status-{status}": Script(status=status) for status in (400, 401, 404, 500, 503)},
    "status-429-retry-after": Script(status=429, retry_after=2),
}


async def run(sdk_provider: Any, collect: Any, say_hi: Any, parser: str, **kw: Any) -> Any:
    outcome = await collect(sdk_provider("openai", parser=parser, **kw), say_hi, MODEL)
    return outcome_of(outcome.events, outcome.error)


@pytest.mark.parametrize("name", list(SCRIPTS))
async def test_each_shape_and_fault_gives_the_same_events_and_error(
    name: str, fake_server, sdk_provider, collect, say_hi
) -> None:
    await assert_script_alike(
        fake_server, SCRIPTS[name], partial(run, sdk_provider, collect, say_hi)
    )


RAW_STREAMS: dict[str, list[dict[str, Any]]] = {
    "legacy-function-call": [
        chunk({"role": "assistant", "function_call": {"name": "get_time", "arguments": ""}}),
        chunk({"function_call": {"arguments": '{"tz": '}}),
        chunk({"function_call": {"arguments": '"UTC"}'}}),
        chunk({}, "function_call"),
    ],
    "calls-at-one-index": [
        chunk(
            {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]}
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "g"}}]}),
        chunk({"tool_calls": [{"function": {"arguments": "{}"}}]}),
        chunk({}, "stop"),
    ],
    "reasoning-field": [chunk({"reasoning": "hmm"}), chunk({"content": "ok"}, "stop")],
    "both-reasoning-fields": [
        chunk({"reasoning_content": "a", "reasoning": "a"}),
        chunk({"content": "ok"}, "stop"),
    ],
    "refusal": [chunk({"refusal": "I can't "}), chunk({"refusal": "help."}, "stop")],
    "nulls": [
        chunk({"content": None, "tool_calls": None, "refusal": None}),
        {"id": "x", "choices": [{"index": 0, "delta": None, "finish_reason": None}]},
        {"id": "x", "choices": [], "usage": None},
        chunk({"content": "hi"}, "stop"),
        {
            "id": "x",
            "choices": [],
            "usage": {
                "prompt_tokens": 3,
                "completion_tokens": 4,
                "prompt_tokens_details": None,
                "completion_tokens_details": {"reasoning_tokens": 2},
            },
        },
    ],
    "error-without-message": [chunk({"content": "hi"}), {"error": {"code": "server_error"}}],
    "error-of-a-string": [{"error": "something broke"}],
}


@pytest.mark.parametrize("name", list(RAW_STREAMS))
async def test_raw_forms_give_the_same_events_and_error(
    name: str, sdk_provider, collect, say_hi
) -> None:
    async with raw_chat_server(RAW_STREAMS[name]) as server:
        sdk, fast = await both_parsers(
            partial(run, sdk_provider, collect, say_hi, base_url=server.base_url)
        )

    assert_alike(sdk, fast)


# -- the setting -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(FAST_PARSER_KINDS))
def test_the_parser_defaults_to_fast_for_the_kinds_that_have_it(kind: str) -> None:
    assert ProviderSettings(name="p", kind=kind).parser == "fast"
    assert ProviderSettings(name="p", kind=kind, parser="sdk").parser == "sdk"


def test_the_parser_defaults_to_the_sdk_for_the_other_kinds(tmp_path: Path) -> None:
    assert ProviderSettings(name="f", kind="function").parser == "sdk"
    path = tmp_path / "dispatch.yaml"
    path.write_text("providers:\n  mine:\n    kind: anthropic\n", encoding="utf-8")
    assert load_config(path, environ={}).providers["mine"].to_settings("mine").parser == "fast"


@pytest.mark.parametrize("kind", sorted({"anthropic", "google", "function"} - FAST_PARSER_KINDS))
def test_a_kind_without_a_fast_parser_refuses_it(kind: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="takes no parser 'fast'"):
        ProviderSettings(name=kind, kind=kind, parser="fast")
    path = tmp_path / "dispatch.yaml"
    entry = textwrap.indent(f"kind: {kind}\nparser: fast", "    ")
    path.write_text(f"providers:\n  mine:\n{entry}\n", encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})

    assert (info.value.line, info.value.path) == (4, "providers.mine.parser")
    assert "takes no parser 'fast'" in str(info.value)


def test_an_unknown_parser_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.yaml"
    path.write_text("providers:\n  mine:\n    kind: openai\n    parser: quick\n", encoding="utf-8")

    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})

    assert info.value.path == "providers.mine.parser"
    assert "'sdk' or 'fast'" in str(info.value)


def test_the_configured_parser_reaches_the_provider_settings(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.yaml"
    path.write_text("providers:\n  mine:\n    kind: openai\n    parser: fast\n", encoding="utf-8")

    settings = load_config(path, environ={}).providers["mine"].to_settings("mine")

    assert settings.parser == "fast"
