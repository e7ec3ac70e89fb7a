"""The switch of seed 004's batch sample: TaskRequests grouped by the provider routing would
pick, and streamed one by one through the process-wide dispatcher, over real HTTP."""

from __future__ import annotations

import asyncio
from typing import Any

import media_samples
import pytest

import llm_dispatch
from llm_dispatch import (
    ConfigError,
    NoProviderAvailable,
    Switch,
    TaskRequest,
    TaskType,
    get_global_switch,
    global_dispatcher,
)
from llm_dispatch.testing import FakeProviderServer, Script

ROUTES = {
    "default": {"targets": ["openai", "anthropic"]},
    "code_generation": {"targets": ["anthropic", "openai"]},
    "vision_analysis": {"targets": ["google"]},
}


@pytest.fixture
def global_switch(make_dispatcher: Any, monkeypatch: pytest.MonkeyPatch) -> Switch:
    """The process-wide dispatcher is a fake-server one for the test."""
    monkeypatch.setattr(global_dispatcher, "_dispatcher", make_dispatcher(routes=ROUTES))
    return get_global_switch()


def test_star_import_gives_the_batch_sample_its_names() -> None:
    names: dict[str, Any] = {}
    exec("from llm_dispatch import *", names)
    for name in ("get_global_switch", "TaskRequest", "TaskType", "Switch"):
        assert names[name] is getattr(llm_dispatch, name)


def test_the_global_switch_is_the_process_wide_dispatcher(global_switch: Switch) -> None:
    assert global_switch.dispatcher is global_dispatcher.get_dispatcher()


def test_requests_are_grouped_by_the_provider_routing_picks(global_switch: Switch) -> None:
    requests = [
        TaskRequest(prompt="Write a story", task_type=TaskType.TEXT_GENERATION),
        TaskRequest(prompt="Explain AI", task_type=TaskType.TEXT_GENERATION),
        TaskRequest(prompt="Code example", task_type=TaskType.CODE_GENERATION),
        {"prompt": "Say hi", "provider": "google"},
        "Summarise Hamlet",
        TaskRequest(prompt="Tell a joke", model="claude-haiku-4-5"),
    ]
    groups = global_switch.group_requests_by_provider(requests)
    assert list(groups) == ["openai", "anthropic", "google"]
    openai = ["Write a story", "Explain AI", "Summarise Hamlet"]
    assert [r.prompt for r in groups["openai"]] == openai
    assert [r.prompt for r in groups["anthropic"]] == ["Code example", "Tell a joke"]
    assert [r.prompt for r in groups["google"]] == ["Say hi"]
    assert all(isinstance(r, TaskRequest) for group in groups.values() for r in group)


def test_a_request_routing_cannot_place_is_named(global_switch: Switch) -> None:
    with pytest.raises(ConfigError, match="unknown provider 'x'") as caught:
        global_switch.group_requests_by_provider(["fine", TaskRequest(prompt="L", provider="x")])
    assert "in request #1 of group_requests_by_provider" in caught.value.__notes__


def test_route_preview_skips_what_cannot_take_the_request(make_dispatcher: Any) -> None:
    # Anthropic's models take no audio: the preview starts at the first one that does.
    switch = Switch(make_dispatcher(routes={"default": {"targets": ["anthropic", "google"]}}))
    wav = media_samples.wav()
    plan = switch.open_request("Transcribe", audio=wav).route_preview()
    assert [t.provider for t in plan.targets] == ["google"]
    assert "audio" in plan.skipped["anthropic/claude-haiku-4-5"]
    with pytest.raises(NoProviderAvailable):
        switch.open_request("Transcribe", audio=wav, provider="anthropic").route_preview()


def test_grouping_sends_nothing_and_keeps_round_robin_turns(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    dispatcher = make_dispatcher(
        routes={"default": {"strategy": "round_robin", "targets": ["openai", "anthropic"]}}
    )
    switch = Switch(dispatcher)
    for _ in range(3):
        assert list(switch.group_requests_by_provider(["a"])) == ["openai"]
    assert fake_server.requests == []


async def test_stream_request_streams_one_request(
    global_switch: Switch, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(chunks=["def ", "sort", "()"]), provider="anthropic")
    request = TaskRequest(prompt="Code example", task_type=TaskType.CODE_GENERATION, max_tokens=50)
    async with asyncio.timeout(10):
        stream = global_switch.stream_request(request)
        chunks = [chunk async for chunk in stream]
    assert chunks == ["def ", "sort", "()"]
    assert stream.provider == "anthropic"
    sent = fake_server.requests_for("anthropic")[-1]
    assert sent.body["max_tokens"] == 50
    assert "Code example" in str(sent.body["messages"])


async def test_the_batch_sample_streams_every_group_in_turn(
    global_switch: Switch, fake_server: FakeProviderServer
) -> None:
    requests = [
        TaskRequest(prompt="Write a story", task_type=TaskType.TEXT_GENERATION),
        TaskRequest(prompt="Code example", task_type=TaskType.CODE_GENERATION),
        TaskRequest(prompt="Explain AI", task_type=TaskType.TEXT_GENERATION),
    ]
    texts: list[str] = []
    async with asyncio.timeout(20):
        for provider, group in global_switch.group_requests_by_provider(requests).items():
            for request in group:
                stream = global_switch.stream_request(request)
                texts.append("".join([chunk async for chunk in stream]))
                assert stream.provider == provider
    # Grouped: both openai requests first, then the anthropic one.
    assert ['"Write a story"' in texts[0], '"Explain AI"' in texts[1]] == [True, True]
    assert '"Code example"' in texts[2]


def test_bad_requests_are_refused(global_switch: Switch) -> None:
    with pytest.raises(TypeError, match="max_tokens given twice"):
        global_switch.stream_request(TaskRequest(prompt="x", max_tokens=5), max_tokens=6)
    with pytest.raises(TypeError, match="use open_request"):
        global_switch.stream_request("x", metadata=True)
    with pytest.raises(ValueError, match="task_type"):
        global_switch.stream_request({"prompt": "x", "task_type": "poetry"})
