"""Router.plan: strategies, call overrides, skipped targets and their reasons."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from llm_dispatch.content import AudioPart, DocumentPart, ImagePart, TextPart
from llm_dispatch.errors import ConfigError, NoProviderAvailable
from llm_dispatch.policies.circuit import CircuitBreaker, MemoryCircuitStore
from llm_dispatch.request import Message, Request
from llm_dispatch.routing import Plan, Router
from llm_dispatch.settings.loader import load_config
from llm_dispatch.settings.models import CircuitSettings, DispatchConfig
from llm_dispatch.task_types import TaskType


def config(routes: dict[str, Any], **provider_changes: dict[str, Any]) -> DispatchConfig:
    providers: dict[str, Any] = {
        "openai": {
            "kind": "openai",
            "api_key": "sk-test-openai-0000000000",
            "default_model": "gpt-4o-mini",
            "prices": {
                "gpt-4o-mini": {"input": 0.15, "output": 0.60},
                "gpt-4o": {"input": 2.50, "output": 10.00},
            },
        },
        "anthropic": {
            "kind": "anthropic",
            "api_key": "sk-ant-test-0000000000",
            "default_model": "claude-sonnet-4-5",
            "prices": {
                "claude-sonnet-4-5": {"input": 3.0, "output": 15.0},
                "claude-haiku-4-5": {"input": 1.0, "output": 5.0},
            },
        },
        "google": {
            "kind": "google",
            "api_key": "test-google-key",
            "default_model": "gemini-2.5-flash",
            "prices": {"gemini-2.5-flash": {"input": 0.30, "output": 2.50}},
        },
        "vllm": {
            "kind": "openai",
            "api_key": "EMPTY",
            "base_url": "http://127.0.0.1:8000/v1",
            "models": ["qwen-7b", "llama-8b"],
        },
    }
    for name, changes in provider_changes.items():
        providers[name] = {**providers.get(name, {}), **changes}
    return load_config({"providers": providers, "routes": routes}, environ={})


def request(task_type: TaskType = TaskType.TEXT_GENERATION) -> Request:
    return Request(messages=(Message(role="user", content="hello"),), task_type=task_type)


def keys(plan: Plan) -> list[str]:
    return [t.key for t in plan.targets]


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


# -- route selection and targets -------------------------------------------------------------


async def test_task_type_route_else_default() -> None:
    router = Router(
        config({"code_generation": ["anthropic", "openai/gpt-4o"], "default": ["google"]})
    )
    plan = await router.plan(request(TaskType.CODE_GENERATION))
    assert (plan.route, keys(plan)) == (
        "code_generation",
        ["anthropic/claude-sonnet-4-5", "openai/gpt-4o"],
    )
    plan = await router.plan(request(TaskType.TRANSLATION))
    assert (plan.route, keys(plan)) == ("default", ["google/gemini-2.5-flash"])


async def test_targets_carry_settings_price_and_weight() -> None:
    router = Router(config({"default": [{"provider": "openai", "model": "gpt-4o", "weight": 2}]}))
    (target,) = (await router.plan(request())).targets
    assert target.settings is not None and target.settings.name == "openai"
    assert target.price is not None and target.price.output == 10.0
    assert target.weight == 2
    assert target.kind == "openai"


async def test_no_route_and_no_default_route() -> None:
    cfg = load_config({"providers": {}, "routes": {"code_generation": ["function"]}}, environ={})
    router = Router(cfg)
    with pytest.raises(NoProviderAvailable, match=r"routes\.text_generation: no route"):
        await router.plan(request())
    plan = await router.plan(request(), providers=["function"])
    assert keys(plan) == ["function/body"]


# -- strategies ------------------------------------------------------------------------------


async def test_priority_keeps_route_order() -> None:
    router = Router(config({"default": ["google", "openai", "anthropic"]}))
    for _ in range(3):
        assert keys(await router.plan(request())) == [
            "google/gemini-2.5-flash",
            "openai/gpt-4o-mini",
            "anthropic/claude-sonnet-4-5",
        ]


async def test_cost_cheapest_known_price_first_unknown_last_in_route_order() -> None:
    route = {
        "strategy": "cost",
        "targets": [
            "anthropic/claude-sonnet-4-5",  # 18.00
            "vllm/qwen-7b",  # unknown
            "openai/gpt-4o",  # 12.50
            "google",  # 2.80
            "function",  # unknown
            "openai/gpt-4o-mini",  # 0.75
            "vllm/llama-8b",  # unknown
            "anthropic/claude-haiku-4-5",  # 6.00
        ],
    }
    plan = await Router(config({"default": route})).plan(request())
    assert plan.strategy == "cost"
    assert keys(plan) == [
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash",
        "anthropic/claude-haiku-4-5",
        "openai/gpt-4o",
        "anthropic/claude-sonnet-4-5",
        "vllm/qwen-7b",
        "function/body",
        "vllm/llama-8b",
    ]


async def test_latency_unmeasured_first_then_lowest_ewma() -> None:
    router = Router(
        config({"default": {"strategy": "latency", "targets": ["openai", "anthropic", "google"]}})
    )
    assert keys(await router.plan(request())) == [
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4-5",
        "google/gemini-2.5-flash",
    ]
    router.observe_ttft("anthropic/claude-sonnet-4-5", 0.5)
    router.observe_ttft("google/gemini-2.5-flash", 0.2)
    assert keys(await router.plan(request())) == [
        "openai/gpt-4o-mini",  # never measured: goes first so it gets measured
        "google/gemini-2.5-flash",
        "anthropic/claude-sonnet-4-5",
    ]
    router.observe_ttft("openai/gpt-4o-mini", 0.3)
    router.observe_ttft("google/gemini-2.5-flash", 2.0)  # EWMA: 0.3 * 2.0 + 0.7 * 0.2
    assert router.state.ttft["google/gemini-2.5-flash"] == pytest.approx(0.74)
    assert keys(await router.plan(request())) == [
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4-5",
        "google/gemini-2.5-flash",
    ]


class ScriptedRandom(random.Random):
    """A Random whose random() returns the given values in turn."""

    def __init__(self, values: list[float]) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


WEIGHTED = {
    "strategy": "weighted",
    "targets": [
        {"provider": "openai", "weight": 3},
        "anthropic",  # the provider's weight: 1
        "google",  # the provider's weight: 0 (set below): only as a last resort
    ],
}


async def test_weighted_draws_proportionally_to_weight() -> None:
    cfg = config({"default": WEIGHTED}, google={"weight": 0})
    # point = u * total weight; the first target whose cumulative weight exceeds it wins.
    router = Router(cfg, rng=ScriptedRandom([0.0, 0.5]))  # 0.0 * 4 -> openai; then anthropic
    assert keys(await router.plan(request())) == [
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4-5",
        "google/gemini-2.5-flash",
    ]
    router = Router(cfg, rng=ScriptedRandom([0.9, 0.5]))  # 0.9 * 4 = 3.6 -> anthropic
    assert keys(await router.plan(request())) == [
        "anthropic/claude-sonnet-4-5",
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash",
    ]

    router = Router(cfg, rng=random.Random(7))
    firsts = Counter([(await router.plan(request())).targets[0].provider for _ in range(4000)])
    assert firsts["google"] == 0
    assert firsts["openai"] / 4000 == pytest.approx(0.75, abs=0.04)


async def test_round_robin_rotates_per_route() -> None:
    cfg = config(
        {
            "default": {"strategy": "round_robin", "targets": ["openai", "anthropic", "google"]},
            "translation": {"strategy": "round_robin", "targets": ["google", "openai"]},
        }
    )
    router = Router(cfg)
    firsts = [(await router.plan(request())).targets[0].provider for _ in range(4)]
    assert firsts == ["openai", "anthropic", "google", "openai"]
    assert keys(await router.plan(request())) == [
        "anthropic/claude-sonnet-4-5",
        "google/gemini-2.5-flash",
        "openai/gpt-4o-mini",
    ]
    # Another route has its own turn counter.
    translation = [
        (await router.plan(request(TaskType.TRANSLATION))).targets[0].provider for _ in range(3)
    ]
    assert translation == ["google", "openai", "google"]


async def test_round_robin_shares_turns_among_usable_targets_only() -> None:
    cfg = config(
        {"default": {"strategy": "round_robin", "targets": ["openai", "anthropic", "google"]}},
        anthropic={"enabled": False},
    )
    router = Router(cfg)
    firsts = [(await router.plan(request())).targets[0].provider for _ in range(4)]
    assert firsts == ["openai", "google", "openai", "google"]


# -- call overrides --------------------------------------------------------------------------


ROUTE = ["openai", "anthropic/claude-sonnet-4-5", "anthropic/claude-haiku-4-5", "google"]


async def test_providers_narrow_the_route_in_the_given_order() -> None:
    router = Router(config({"default": {"strategy": "cost", "targets": ROUTE}}))
    plan = await router.plan(request(), providers=["anthropic", "openai"])
    assert plan.strategy == "priority"  # the caller's order wins over the route's strategy
    assert keys(plan) == [
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-haiku-4-5",
        "openai/gpt-4o-mini",
    ]
    assert plan.skipped == {"google/gemini-2.5-flash": "not in providers=['anthropic', 'openai']"}


async def test_providers_add_configured_providers_missing_from_the_route() -> None:
    router = Router(config({"default": ROUTE}))
    plan = await router.plan(request(), providers=["vllm", "openai/gpt-4o", "function"])
    assert keys(plan) == ["vllm/qwen-7b", "openai/gpt-4o", "function/body"]
    # openai is named, but with another model: its route target is left out too
    assert plan.skipped["openai/gpt-4o-mini"] == (
        "not in providers=['vllm', 'openai/gpt-4o', 'function']"
    )


async def test_providers_accepts_a_single_string() -> None:
    plan = await Router(config({"default": ROUTE})).plan(request(), providers="google")
    assert keys(plan) == ["google/gemini-2.5-flash"]


async def test_unknown_provider_name_suggests_the_closest() -> None:
    router = Router(config({"default": ROUTE}))
    with pytest.raises(
        ConfigError, match=r"unknown provider 'antropic' \(did you mean 'anthropic'\?\)"
    ):
        await router.plan(request(), providers=["antropic"])


async def test_model_applies_to_the_single_named_provider() -> None:
    router = Router(config({"default": ROUTE}))
    plan = await router.plan(request(), providers=["anthropic"], model="claude-opus-4-1")
    assert keys(plan) == ["anthropic/claude-opus-4-1"]
    assert plan.skipped["anthropic/claude-haiku-4-5"] == "replaced by model='claude-opus-4-1'"
    assert plan.targets[0].price is None  # no price configured for that model


async def test_model_without_providers_goes_first_to_the_provider_that_lists_it() -> None:
    router = Router(config({"default": ["openai", "vllm", "google"]}))
    plan = await router.plan(request(), model="llama-8b")
    # The provider that serves the model answers; the others stay as fallbacks.
    assert keys(plan) == ["vllm/llama-8b", "openai/gpt-4o-mini", "google/gemini-2.5-flash"]
    assert plan.strategy == "priority"


async def test_model_without_providers_goes_to_the_provider_of_its_kind() -> None:
    router = Router(config({"default": ["openai", "google"]}))
    plan = await router.plan(request(), model="claude-haiku-4-5")
    # Anthropic is configured but not in the route: it serves claude models, so it comes first.
    assert keys(plan)[0] == "anthropic/claude-haiku-4-5"
    with pytest.raises(NoProviderAvailable, match="grok-2"):
        await router.plan(request(), model="grok-2")


async def test_model_without_providers_else_goes_to_the_first_route_provider() -> None:
    router = Router(config({"default": ROUTE}))
    plan = await router.plan(request(), model="gpt-4o")
    assert keys(plan) == [
        "openai/gpt-4o",
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-haiku-4-5",
        "google/gemini-2.5-flash",
    ]


async def test_model_overrides_are_checked() -> None:
    router = Router(config({"default": ROUTE}))
    with pytest.raises(
        ConfigError, match=r"'qwen-8b' is not in providers\.vllm\.models.*'qwen-7b'"
    ):
        await router.plan(request(), providers=["vllm"], model="qwen-8b")
    with pytest.raises(ConfigError, match="give the model in one place"):
        await router.plan(request(), providers=["openai/gpt-4o"], model="gpt-4o-mini")


# -- skipped targets -------------------------------------------------------------------------


async def test_provider_without_credentials_is_skipped_with_the_variable_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = config({"default": ["openai", "google"]}, openai={"api_key": None})
    router = Router(cfg)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    plan = await router.plan(request())
    assert keys(plan) == ["google/gemini-2.5-flash"]
    assert plan.skipped == {
        "openai/gpt-4o-mini": (
            "disabled: no API key (set OPENAI_API_KEY or providers.openai.api_key)"
        )
    }
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment-0000")
    assert keys(await router.plan(request()))[0] == "openai/gpt-4o-mini"


async def test_unset_api_key_variable_and_enabled_false_are_reasons() -> None:
    cfg = config(
        {"default": ["openai", "anthropic", "google"]},
        openai={"api_key": "${TEST_ROUTER_UNSET_KEY}"},
        anthropic={"enabled": False},
    )
    plan = await Router(cfg).plan(request())
    assert keys(plan) == ["google/gemini-2.5-flash"]
    assert "${TEST_ROUTER_UNSET_KEY}" in plan.skipped["openai/gpt-4o-mini"]
    assert plan.skipped["anthropic/claude-sonnet-4-5"] == (
        "disabled in the configuration (providers.anthropic.enabled: false)"
    )


async def test_custom_is_enabled_replaces_the_credential_check() -> None:
    def is_enabled(name: str, settings: Any) -> str | None:
        return None if name == "google" else f"no quota left for {settings.name}"

    cfg = config({"default": ["openai", "google", "function"]}, google={"enabled": False})
    with pytest.raises(NoProviderAvailable) as info:
        await Router(cfg, is_enabled=is_enabled).plan(request(), providers=["openai", "google"])
    assert info.value.skipped == {
        "function/body": "not in providers=['openai', 'google']",
        "openai/gpt-4o-mini": "no quota left for openai",
        # configuration reasons apply whatever is_enabled says
        "google/gemini-2.5-flash": (
            "disabled in the configuration (providers.google.enabled: false)"
        ),
    }
    plan = await Router(cfg, is_enabled=is_enabled).plan(request())
    assert keys(plan) == ["function/body"]  # the body is always enabled


async def test_no_provider_available_names_each_target_and_why() -> None:
    cfg = config(
        {"default": ["openai", "anthropic/claude-haiku-4-5"]},
        openai={"api_key": "${TEST_ROUTER_UNSET_KEY}"},
        anthropic={"enabled": False},
    )
    with pytest.raises(NoProviderAvailable) as info:
        await Router(cfg).plan(request(TaskType.SUMMARIZATION))
    message = str(info.value)
    assert "no provider available for task type 'summarization'" in message
    assert (
        "  - openai/gpt-4o-mini: disabled: no API key (providers.openai.api_key names " in message
    )
    assert (
        "  - anthropic/claude-haiku-4-5: disabled in the configuration "
        "(providers.anthropic.enabled: false)" in message
    )
    assert set(info.value.skipped) == {"openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"}


async def test_open_circuit_skips_the_target_until_the_cooldown_ends() -> None:
    clock = FakeClock()
    circuit = CircuitBreaker(
        CircuitSettings(failure_threshold=2, cooldown=10), MemoryCircuitStore(), clock=clock
    )
    router = Router(config({"default": ["openai", "google"]}), circuit=circuit)
    await circuit.record_failure("openai/gpt-4o-mini")
    await circuit.record_failure("openai/gpt-4o-mini")

    plan = await router.plan(request())
    assert keys(plan) == ["google/gemini-2.5-flash"]
    reason = plan.skipped["openai/gpt-4o-mini"]
    assert reason.startswith("circuit open until ") and reason.endswith("(10.0s from now)")

    clock.now += 10  # half-open: plans include it until an attempt claims the probe
    assert keys(await router.plan(request())) == ["openai/gpt-4o-mini", "google/gemini-2.5-flash"]
    assert keys(await router.plan(request()))[0] == "openai/gpt-4o-mini"  # planning claims none
    assert await circuit.allow("openai/gpt-4o-mini")  # the attempt that opens it claims it
    plan = await router.plan(request())
    assert plan.skipped == {
        "openai/gpt-4o-mini": "circuit half-open: a probe request is already in flight"
    }
    await circuit.record_success("openai/gpt-4o-mini")  # the probe worked: closed
    assert keys(await router.plan(request()))[0] == "openai/gpt-4o-mini"


async def test_every_target_open_raises_no_provider_available() -> None:
    circuit = CircuitBreaker(CircuitSettings(failure_threshold=1), MemoryCircuitStore())
    router = Router(config({"default": ["openai"]}), circuit=circuit)
    await circuit.record_failure("openai/gpt-4o-mini")
    with pytest.raises(NoProviderAvailable, match=r"openai/gpt-4o-mini: circuit open until"):
        await router.plan(request())


async def test_the_function_body_is_never_taken_out_by_the_circuit() -> None:
    circuit = CircuitBreaker(CircuitSettings(failure_threshold=1), MemoryCircuitStore())
    router = Router(config({"default": ["function"]}), circuit=circuit)
    await circuit.record_failure("function/body")
    assert keys(await router.plan(request())) == ["function/body"]


# -- what a target takes: modalities and part sizes -----------------------------------------

MB = 1024 * 1024


def with_parts(*parts: Any) -> Request:
    content = (TextPart(text="what is this?"), *parts)
    return Request(messages=(Message(role="user", content=content),))


def png(size: int, source: str = "images[0]") -> ImagePart:
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * (size - 8)
    return ImagePart(mime_type="image/png", data=data, source=source)


def wav(size: int = 64, source: str = "audio[0]") -> AudioPart:
    return AudioPart(mime_type="audio/wav", data=b"RIFF" + b"\0" * (size - 4), source=source)


async def test_a_model_that_does_not_take_audio_is_skipped_with_the_reason() -> None:
    router = Router(config({"default": ["anthropic", "openai", "google"]}))
    plan = await router.plan(with_parts(wav()))
    assert keys(plan) == ["google/gemini-2.5-flash"]
    reason = "takes text, image, document; this request sends audio (audio[0])"
    assert plan.skipped == {
        "anthropic/claude-sonnet-4-5": reason,
        "openai/gpt-4o-mini": reason,
    }


async def test_no_capable_target_raises_no_provider_available_naming_the_modality() -> None:
    router = Router(config({"default": ["anthropic", "openai/gpt-4o"]}))
    with pytest.raises(NoProviderAvailable) as info:
        await router.plan(with_parts(wav(source="audio[0]"), wav(source="audio[1]")))
    assert info.value.skipped == {
        "anthropic/claude-sonnet-4-5": "takes text, image, document; "
        "this request sends audio (audio[0], audio[1])",
        "openai/gpt-4o": "takes text, image, document; "
        "this request sends audio (audio[0], audio[1])",
    }
    assert "this request sends audio (audio[0], audio[1])" in str(info.value)


async def test_an_audio_preview_model_takes_audio_and_no_images() -> None:
    router = Router(config({"default": ["openai/gpt-4o-audio-preview", "anthropic"]}))
    plan = await router.plan(with_parts(wav()))
    assert keys(plan) == ["openai/gpt-4o-audio-preview"]
    with pytest.raises(NoProviderAvailable) as info:
        await router.plan(with_parts(png(100), wav()))
    assert info.value.skipped == {
        "openai/gpt-4o-audio-preview": "takes text, audio; this request sends image (images[0])",
        "anthropic/claude-sonnet-4-5": "takes text, image, document; "
        "this request sends audio (audio[0])",
    }


async def test_an_image_over_anthropics_limit_skips_anthropic_and_keeps_openai() -> None:
    router = Router(config({"default": ["anthropic", "openai"]}))
    plan = await router.plan(with_parts(png(6 * MB)))
    assert keys(plan) == ["openai/gpt-4o-mini"]
    assert plan.skipped == {
        "anthropic/claude-sonnet-4-5": "images[0] is 6.0 MB; anthropic takes images up to 5 MB"
    }
    # at the limit itself the image goes through
    assert keys(await router.plan(with_parts(png(5 * MB)))) == [
        "anthropic/claude-sonnet-4-5",
        "openai/gpt-4o-mini",
    ]


async def test_a_part_in_a_form_the_kind_does_not_send_skips_the_target() -> None:
    ogg = AudioPart(mime_type="audio/ogg", data=b"OggS" + b"\0" * 60, source="audio")
    router = Router(config({"default": ["openai/gpt-4o-audio-preview", "google"]}))
    plan = await router.plan(with_parts(ogg))
    assert keys(plan) == ["google/gemini-2.5-flash"]
    assert plan.skipped == {
        "openai/gpt-4o-audio-preview": "audio is audio/ogg; openai takes audio as audio/wav "
        "or audio/mpeg"
    }
    assert keys(await router.plan(with_parts(wav()))) == [
        "openai/gpt-4o-audio-preview",
        "google/gemini-2.5-flash",
    ]

    linked = DocumentPart(
        mime_type="application/pdf", url="https://example.org/deal.pdf", source="documents[0]"
    )
    router = Router(config({"default": ["openai/gpt-4o", "anthropic"]}))
    plan = await router.plan(with_parts(linked))
    assert keys(plan) == ["anthropic/claude-sonnet-4-5"]
    assert plan.skipped == {
        "openai/gpt-4o": "documents[0] is a URL; openai takes documents as bytes only"
    }


async def test_the_responses_api_takes_document_urls_but_no_audio() -> None:
    router = Router(
        config(
            {"default": ["openai/gpt-4o-audio-preview", "openai/gpt-4o", "google"]},
            openai={"api": "responses"},
        )
    )
    ogg = AudioPart(mime_type="audio/wav", data=b"RIFF" + b"\0" * 60, source="audio")
    plan = await router.plan(with_parts(ogg))
    assert keys(plan) == ["google/gemini-2.5-flash"]
    assert plan.skipped["openai/gpt-4o-audio-preview"] == (
        "audio: openai's Responses API takes no audio"
    )
    linked = DocumentPart(
        mime_type="application/pdf", url="https://example.org/deal.pdf", source="documents[0]"
    )
    plan = await router.plan(with_parts(linked))
    assert keys(plan)[:1] == ["openai/gpt-4o"]  # chat completions would skip it


async def test_media_in_an_assistant_turn_skips_openai() -> None:
    request = Request(
        messages=(
            Message(role="user", content="Draw a cat."),
            Message(role="assistant", content=(TextPart(text="Here:"), png(100, "history[1]"))),
            Message(role="user", content="Now a dog."),
        )
    )
    router = Router(config({"default": ["openai/gpt-4o", "google"]}))
    plan = await router.plan(request)
    assert keys(plan) == ["google/gemini-2.5-flash"]
    assert plan.skipped == {
        "openai/gpt-4o": "history[1] in an assistant turn; openai takes media in user turns only"
    }


async def test_size_limits_per_kind_name_every_part_over_them() -> None:
    router = Router(config({"default": ["anthropic", "openai", "google"]}))
    big_pdf = DocumentPart(
        mime_type="application/pdf", data=b"%PDF" + b"\0" * (33 * MB), source="report"
    )
    with pytest.raises(NoProviderAvailable) as info:
        await router.plan(
            with_parts(png(21 * MB, "images[0]"), png(MB, "images[1]"), png(8 * MB, "images[2]"))
        )
    assert info.value.skipped == {
        "anthropic/claude-sonnet-4-5": "images[0] is 21.0 MB, images[2] is 8.0 MB; "
        "anthropic takes images up to 5 MB",
        "openai/gpt-4o-mini": "images[0] is 21.0 MB; openai takes images up to 20 MB",
        "google/gemini-2.5-flash": "the inline media (images[0], images[1], images[2]) come to "
        "30.0 MB; google takes up to 20 MB of inline data per request",
    }
    plan = await router.plan(with_parts(big_pdf))
    assert keys(plan) == ["openai/gpt-4o-mini"]
    assert plan.skipped["anthropic/claude-sonnet-4-5"] == (
        "report is 33.0 MB; anthropic takes documents up to 32 MB"
    )


async def test_a_part_just_over_a_limit_is_described_in_bytes() -> None:
    router = Router(config({"default": ["anthropic", "openai"]}))
    plan = await router.plan(with_parts(png(5 * MB + 10)))
    assert plan.skipped == {
        "anthropic/claude-sonnet-4-5": "images[0] is 5,242,890 bytes (over 5,242,880); "
        "anthropic takes images up to 5 MB"
    }


async def test_parts_without_a_source_are_named_by_their_place() -> None:
    router = Router(config({"default": ["anthropic", "google"]}))
    plan = await router.plan(with_parts(wav(source="")))
    assert plan.skipped == {
        "anthropic/claude-sonnet-4-5": "takes text, image, document; "
        "this request sends audio (messages[0].content[1])"
    }


async def test_a_part_fetched_by_url_has_no_size_to_check() -> None:
    router = Router(config({"default": ["anthropic"]}))
    image = ImagePart(mime_type="image/png", url="https://example.org/big.png", source="img")
    assert keys(await router.plan(with_parts(image))) == ["anthropic/claude-sonnet-4-5"]


async def test_text_only_requests_go_everywhere() -> None:
    router = Router(config({"default": ["vllm/qwen-7b", "anthropic"]}))
    text_parts = Request(messages=(Message(role="user", content=(TextPart(text="hi"),)),))
    for asked in (request(), text_parts):
        plan = await router.plan(asked)
        assert keys(plan) == ["vllm/qwen-7b", "anthropic/claude-sonnet-4-5"]
        assert plan.skipped == {}


async def test_the_function_body_takes_every_modality() -> None:
    router = Router(config({"default": ["anthropic", "function"]}))
    plan = await router.plan(with_parts(wav(), png(9 * MB)))
    assert keys(plan) == ["function/body"]
    assert set(plan.skipped) == {"anthropic/claude-sonnet-4-5"}


async def test_a_disabled_provider_keeps_its_own_reason() -> None:
    router = Router(config({"default": ["anthropic", "google"]}, anthropic={"enabled": False}))
    plan = await router.plan(with_parts(wav()))
    assert plan.skipped["anthropic/claude-sonnet-4-5"].startswith("disabled in the configuration")


async def test_providers_argument_narrowing_to_an_incapable_target_fails_with_the_reason() -> None:
    router = Router(config({"default": ["google"]}))
    with pytest.raises(NoProviderAvailable, match=r"this request sends audio \(audio\[0\]\)"):
        await router.plan(with_parts(wav()), providers=["anthropic"])


# -- unknown models --------------------------------------------------------------------------


async def test_a_model_no_family_matches_takes_text_only() -> None:
    router = Router(config({"default": ["vllm/qwen-7b", "openai/my-finetune", "google"]}))
    plan = await router.plan(with_parts(png(100)))
    assert keys(plan) == ["google/gemini-2.5-flash"]
    assert plan.skipped == {
        "vllm/qwen-7b": "takes text; this request sends image (images[0])",
        "openai/my-finetune": "takes text; this request sends image (images[0])",
    }
    (target,) = (await router.plan(request(), providers=["vllm/qwen-7b"])).targets
    assert target.capabilities is not None and target.context_window is None


async def test_a_configured_entry_wins_over_the_family_key_by_key() -> None:
    router = Router(
        config(
            {"default": ["vllm/qwen-7b", "anthropic/claude-haiku-4-5", "openai/gpt-4o"]},
            vllm={"capabilities": {"qwen-7b": {"modalities": ["text", "image"]}}},
            anthropic={"capabilities": {"claude-haiku-4-5": {"context_window": 100_000}}},
            openai={"capabilities": {"gpt-4o": {"modalities": ["text"]}}},
        )
    )
    plan = await router.plan(with_parts(png(100)))
    assert keys(plan) == ["vllm/qwen-7b", "anthropic/claude-haiku-4-5"]
    assert plan.skipped == {"openai/gpt-4o": "takes text; this request sends image (images[0])"}
    vllm, haiku = plan.targets
    assert (vllm.context_window, haiku.context_window) == (None, 100_000)
    assert haiku.capabilities is not None
    assert haiku.capabilities.modalities == {"text", "image", "document"}


async def test_families_go_by_model_name_whatever_the_base_url() -> None:
    router = Router(
        config(
            {"default": ["proxy/gpt-4o", "proxy/gpt-4.1-nano", "proxy/o-something"]},
            proxy={
                "kind": "openai",
                "api_key": "sk-proxy-000000000000",
                "base_url": "https://llm-gateway.example.com/v1",
            },
        )
    )
    plan = await router.plan(with_parts(png(100)))
    assert keys(plan) == ["proxy/gpt-4o", "proxy/gpt-4.1-nano"]
    assert [t.context_window for t in plan.targets] == [128_000, 1_047_576]
    assert plan.skipped == {"proxy/o-something": "takes text; this request sends image (images[0])"}


# -- route target options --------------------------------------------------------------------


async def test_route_target_options_ride_on_the_target() -> None:
    router = Router(
        config(
            {
                "default": [
                    {"provider": "openai", "options": {"seed": 7}},
                    {"provider": "anthropic", "options": {"top_k": 40}},
                ]
            }
        )
    )
    openai, anthropic = (await router.plan(request())).targets
    assert (openai.options, anthropic.options) == ({"seed": 7}, {"top_k": 40})
    # model= keeps the options of the target whose model it replaces
    (replaced,) = (await router.plan(request(), providers=["openai"], model="gpt-4o")).targets
    assert (replaced.key, replaced.options) == ("openai/gpt-4o", {"seed": 7})
    # a target the call adds is not a route target: it has no route options
    (added,) = (await router.plan(request(), providers=["google"])).targets
    assert added.options == {}
