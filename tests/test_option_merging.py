"""Provider options: merge precedence, validation against each kind's names, and what the
dispatcher hands each attempt."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_KEYS, TEST_MODELS

from llm_dispatch.dispatcher import CallOptions, Dispatcher
from llm_dispatch.errors import RequestBindingError
from llm_dispatch.events import ProviderEvent
from llm_dispatch.provider_options import (
    KNOWN_OPTIONS,
    UnknownProviderOption,
    effective_options,
    planned_options,
    split_call_options,
)
from llm_dispatch.request import Message, Request
from llm_dispatch.result import DispatchStream
from llm_dispatch.routing import Router, Target
from llm_dispatch.settings.loader import load_config
from llm_dispatch.testing import FakeProviderServer, Script

PROVIDERS = ("openai", "anthropic", "google", "function")


def ask(**options: Any) -> Request:
    return Request(messages=(Message(role="user", content="hi"),), options=options)


def kinds(**extra: str) -> dict[str, str]:
    return {**{name: name for name in PROVIDERS}, **extra}


async def planned(routes: dict[str, Any], request: Request) -> list[Target]:
    config = load_config(
        {
            "providers": {
                name: {"kind": name, "api_key": key, "default_model": TEST_MODELS[name]}
                for name, key in TEST_KEYS.items()
            },
            "routes": routes,
        },
        environ={},
    )
    return (await Router(config).plan(request)).targets


# -- merging ---------------------------------------------------------------------------------


async def test_route_then_flat_then_the_providers_sub_dict_later_wins() -> None:
    request = ask(seed=1, top_p=0.9, openai={"seed": 2, "user": "u-1"}, anthropic={"top_k": 40})
    openai, anthropic = await planned(
        {
            "default": [
                {"provider": "openai", "options": {"seed": 7, "store": False}},
                {"provider": "anthropic", "options": {"top_p": 0.5}},
            ]
        },
        ask(),
    )
    assert effective_options(openai, request.options, PROVIDERS) == {
        "seed": 2,
        "store": False,
        "top_p": 0.9,
        "user": "u-1",
    }
    narrowed = ask(top_p=0.9, anthropic={"top_k": 40})
    assert effective_options(anthropic, narrowed.options, PROVIDERS) == {
        "top_p": 0.9,
        "top_k": 40,
    }
    assert effective_options(anthropic, {}, PROVIDERS) == {"top_p": 0.5}


def test_a_sub_dict_is_a_configured_provider_name_with_a_mapping_value() -> None:
    flat, per_provider = split_call_options(
        {
            "metadata": {"user_id": "u-1"},
            "anthropic": {"top_k": 40},
            "google": "not a mapping",
            "antropic": {"top_k": 1},
        },
        PROVIDERS,
    )
    assert flat == {
        "metadata": {"user_id": "u-1"},
        "google": "not a mapping",
        "antropic": {"top_k": 1},
    }
    assert per_provider == {"anthropic": {"top_k": 40}}


async def test_a_function_target_gets_no_options() -> None:
    (body,) = await planned({"default": ["function"]}, ask())
    assert effective_options(body, {"top_p": 0.9}, PROVIDERS) == {}
    assert planned_options([body], ask(top_p=0.9, seed=3), kinds()) == {"function/body": {}}


async def test_route_level_yaml_options_reach_the_effective_options(tmp_path: Path) -> None:
    file = tmp_path / "dispatch.yaml"
    file.write_text(
        textwrap.dedent(
            """
            providers:
              openai: {kind: openai, api_key: sk-test-0123456789abcdef}
            routes:
              code_generation:
                - {provider: openai, model: gpt-4.1, options: {seed: 7, extra_body: {a: 1}}}
            """
        ),
        encoding="utf-8",
    )
    config = load_config(file, environ={})
    request = Request(
        messages=(Message(role="user", content="hi"),),
        task_type="code_generation",
        options={"top_p": 0.9},
    )
    plan = await Router(config).plan(request)
    assert planned_options(plan.targets, request, config.provider_kinds()) == {
        "openai/gpt-4.1": {"seed": 7, "extra_body": {"a": 1}, "top_p": 0.9}
    }


# -- validation ------------------------------------------------------------------------------


async def test_an_unknown_flat_option_names_key_provider_and_known_names() -> None:
    targets = await planned({"default": ["openai", "anthropic"]}, ask())
    with pytest.raises(UnknownProviderOption) as info:
        planned_options(targets, ask(top_p=0.9, top_k=40), kinds())
    err = info.value
    assert isinstance(err, RequestBindingError) and isinstance(err, TypeError)
    assert (err.key, err.provider, err.kind) == ("top_k", "openai", "openai")
    assert err.known == tuple(sorted(KNOWN_OPTIONS["openai"]))
    assert str(err) == (
        "options: unknown option 'top_k' for provider 'openai' (kind openai) (did you mean "
        "'top_p'?); it takes: " + ", ".join(sorted(KNOWN_OPTIONS["openai"]))
    )
    # the same option in anthropic's own sub-dict is fine
    assert planned_options(targets, ask(top_p=0.9, anthropic={"top_k": 40}), kinds()) == {
        "openai/gpt-4o-mini": {"top_p": 0.9},
        "anthropic/claude-haiku-4-5": {"top_p": 0.9, "top_k": 40},
    }


async def test_sub_dicts_are_checked_for_every_configured_provider() -> None:
    (target,) = await planned({"default": ["openai"]}, ask())
    with pytest.raises(UnknownProviderOption, match=r"options\['google'\]: unknown option "):
        planned_options([target], ask(google={"reasoning_effort": "low"}), kinds())
    with pytest.raises(UnknownProviderOption, match=r"provider 'function' .* takes no options"):
        planned_options([target], ask(function={"seed": 1}), kinds())
    # a name that is no provider is a flat option, unknown to openai
    with pytest.raises(UnknownProviderOption, match="unknown option 'antropic'"):
        planned_options([target], ask(antropic={"top_k": 1}), kinds())


async def test_a_request_field_passed_as_an_option_is_pointed_at_its_argument() -> None:
    (target,) = await planned({"default": ["google"]}, ask())
    with pytest.raises(UnknownProviderOption, match=r"temperature is a request field: pass"):
        planned_options([target], ask(temperature=0.2), kinds())


def test_a_target_of_no_known_kind_takes_the_merged_flat_options_unchecked() -> None:
    replay = Target("openai", "gpt-4o-mini")  # as a cache replay plans it
    assert planned_options([replay], ask(anything=1, openai={"seed": 2}), kinds()) == {
        "openai/gpt-4o-mini": {"anything": 1, "seed": 2}
    }
    # the sub-dict of a configured provider is still checked against its kind
    with pytest.raises(UnknownProviderOption, match="unknown option 'else'"):
        planned_options([replay], ask(openai={"else": 2}), kinds())


# -- in the dispatcher -----------------------------------------------------------------------


def run(dispatcher: Dispatcher, request: Request, **options: Any) -> DispatchStream[str]:
    return DispatchStream(
        dispatcher, dispatcher.new_context(request), CallOptions(**options), "text"
    )


async def test_an_unknown_option_fails_before_any_request_is_sent(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(routes={"default": ["anthropic", "openai"]})
    with pytest.raises(UnknownProviderOption, match="unknown option 'reasoning_effort'") as info:
        await run(dispatcher, ask(reasoning_effort="low")).collect()
    assert info.value.provider == "anthropic"
    assert fake_server.requests == []


async def test_each_attempt_is_sent_its_targets_effective_options(
    fake_server: FakeProviderServer, make_dispatcher: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dispatcher = make_dispatcher(
        routes={
            "default": [
                {"provider": "anthropic", "options": {"top_k": 5, "top_p": 0.5}},
                {"provider": "openai", "options": {"seed": 7}},
            ]
        }
    )
    sent: list[tuple[str, dict[str, Any]]] = []
    for name in ("anthropic", "openai"):
        provider = dispatcher.provider(name)
        original = provider.stream

        def recording(
            request: Request, model: str, *, _name: str = name, _stream: Any = original
        ) -> AsyncGenerator[ProviderEvent, None]:
            sent.append((_name, dict(request.options)))
            return _stream(request, model)  # type: ignore[no-any-return]

        monkeypatch.setattr(provider, "stream", recording)
    fake_server.enqueue(Script(status=401, error_message="bad key"), provider="anthropic")
    fake_server.enqueue(Script(chunks=["ok"]), provider="openai")

    request = ask(top_p=0.9, anthropic={"top_k": 40}, openai={"seed": 8})
    stream = await run(dispatcher, request).collect()

    assert stream.get_text() == "ok"
    assert sent == [
        ("anthropic", {"top_k": 40, "top_p": 0.9}),
        ("openai", {"seed": 8, "top_p": 0.9}),
    ]


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("seed", "it is a provider option, pass it in options={'seed': ...}"),
        ("temperature", "it is a request field, set Request.temperature"),
        ("images", "media are parts of a message's content (llm_dispatch.content)"),
        ("tools", "tool calling is not supported yet"),
    ],
)
async def test_request_extra_may_not_hold_what_a_provider_is_sent(
    fake_server: FakeProviderServer, make_dispatcher: Any, key: str, says: str
) -> None:
    dispatcher = make_dispatcher()
    request = Request(messages=(Message(role="user", content="hi"),), extra={key: 1})
    with pytest.raises(RequestBindingError) as info:
        await run(dispatcher, request).collect()
    assert str(info.value) == f"Request.extra[{key!r}] is never sent to a provider: {says}"
    assert fake_server.requests == []
    # the keys stages read are fine
    extra = {"cache_scope": "tenant-a", "embedding_fields": {"user_id": "u-1"}}
    allowed = Request(messages=(Message(role="user", content="hi"),), extra=extra)
    assert (await run(dispatcher, allowed).collect()).get_text()


async def test_a_responses_api_target_refuses_chat_only_options_before_sending(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    entry = {
        "kind": "openai",
        "api": "responses",
        "api_key": TEST_KEYS["openai"],
        "base_url": fake_server.base_url_for("openai"),
        "default_model": TEST_MODELS["openai"],
    }
    dispatcher = make_dispatcher(providers={"openai": entry}, routes={"default": ["openai"]})
    with pytest.raises(UnknownProviderOption, match="unknown option 'seed'") as info:
        await run(dispatcher, ask(seed=7)).collect()
    assert info.value.kind == "openai-responses"
    assert "top_p" in info.value.known and "seed" not in info.value.known
    assert fake_server.requests == []
    # ... and sends the ones it takes.
    await run(dispatcher, ask(top_p=0.5)).collect()
    assert fake_server.requests[0].body["top_p"] == 0.5
