"""``mid_stream: continue``: each provider is asked to go on the way its API follows, and a
continuation that repeats delivered text (a restart, the last words again) is cut so the
consumer never sees anything twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_dispatch import ConfigError, llm_stream
from llm_dispatch.events import ContinuationEvent
from llm_dispatch.policies.continuation import RepeatGuard
from llm_dispatch.providers.continuation import CONTINUE_INSTRUCTION
from llm_dispatch.settings.loader import load_config
from llm_dispatch.stages.base import Stage
from llm_dispatch.testing import FakeProviderServer, Script, split_words

WHOLE = " ".join(f"word{i}" for i in range(30)) + "."
# The first target is cut after this many word chunks.
CUT = 12
DELIVERED = "".join(split_words(WHOLE)[:CUT])  # what the fake server sends before the cut
KINDS = ["openai", "anthropic", "google"]
FIRST = {"openai": "anthropic", "anthropic": "google", "google": "openai"}


def guard_run(delivered: str, *chunks: str) -> str:
    guard = RepeatGuard(delivered)
    out = "".join(guard.feed(chunk) for chunk in chunks)
    return out + guard.flush()


# -- the guard ------------------------------------------------------------------------------


def test_a_continuation_that_repeats_nothing_passes_at_once() -> None:
    guard = RepeatGuard("The quick brown fox ")
    assert guard.feed("jumps over") == "jumps over"  # nothing held back
    assert guard.done and guard.dropped == 0


@pytest.mark.parametrize(
    ("delivered", "chunks", "expected"),
    [
        # the model repeats its last words
        ("The quick brown fox ", ["brown ", "fox ", "jumps."], "jumps."),
        # ... or starts over
        ("The quick brown fox ", ["The ", "quick ", "brown ", "fox ", "jumps."], "jumps."),
        # ... or re-writes the word it was cut in
        ("The quick bro", ["brown fox"], "wn fox"),
        # a doubled space or newline is not repeated either
        ("First line.\n", ["\nSecond line."], "Second line."),
        ("a b c ", [" d"], "d"),
        # code indentation is not whitespace the delivered text ends with: kept
        ("def f():\n", ["    return 1"], "    return 1"),
        # a word that merely starts like the delivered tail is no repeat
        ("I like ", ["likely outcomes"], "likely outcomes"),
        # two characters are too few to call a repeat
        ("Total: 12", ["12 items"], "12 items"),
        ("answer is 12", [" items"], " items"),
        # nothing delivered yet: nothing to repeat
        ("", ["Hello"], "Hello"),
    ],
)
def test_the_repeat_is_dropped_whatever_the_chunking(
    delivered: str, chunks: list[str], expected: str
) -> None:
    assert guard_run(delivered, *chunks) == expected
    assert guard_run(delivered, "".join(chunks)) == expected
    assert guard_run(delivered, *"".join(chunks)) == expected  # one character at a time


def test_a_continuation_that_ends_inside_a_repeat_is_dropped_whole() -> None:
    assert guard_run("The quick brown fox ", "brown ", "fo") == ""


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["alpha", "beta", "gamma", "delta", "x", "42", ","]), min_size=1
    ),
    new=st.lists(st.sampled_from(["omega", "sigma", "tau", "7", "."]), min_size=1),
    repeat=st.integers(min_value=0, max_value=10),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_the_guard_never_duplicates_nor_loses_new_text(
    words: list[str], new: list[str], repeat: int, cuts: list[int]
) -> None:
    delivered = " ".join(words) + " "
    fresh = " ".join(new)
    repeated = " ".join(words[-repeat:]) + " " if repeat else ""
    continuation = repeated + fresh
    bounds = sorted({c % (len(continuation) + 1) for c in cuts})
    ends = [*bounds, len(continuation)]
    chunks = [continuation[a:b] for a, b in zip([0, *bounds], ends, strict=True)]
    out = guard_run(delivered, *chunks)
    # What remains is the new text, never a second copy of the repeated words; and it
    # does not depend on where the chunks were cut.
    assert out == guard_run(delivered, continuation)
    assert out.endswith(fresh)
    assert not (repeated.strip() and len(repeated.strip()) >= 3 and out.startswith(repeated))


# -- each provider's mechanism --------------------------------------------------------------


class Continuations(Stage):
    def __init__(self) -> None:
        self.events: list[ContinuationEvent] = []

    async def on_event(self, ctx: Any, event: Any) -> None:
        if isinstance(event, ContinuationEvent):
            self.events.append(event)


def continuing(dispatcher: Any, second: str, stage: Stage) -> Any:
    @llm_stream(
        dispatcher=dispatcher,
        providers=[FIRST[second], second],
        mid_stream="continue",
        stages=(stage,),
        timeout=60,
    )
    async def answer(prompt: str, system: str | None = None) -> Any:
        yield "unused"

    return answer


@pytest.mark.parametrize("how", ["follow", "restart", "repeat_tail"])
@pytest.mark.parametrize("second", KINDS)
async def test_the_consumer_sees_the_whole_answer_exactly_once(
    second: str, how: str, fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    fake_server.enqueue(Script(text=WHOLE, drop_after=CUT), provider=FIRST[second])
    fake_server.enqueue(Script(text=WHOLE, continuation=how), provider=second)
    stage = Continuations()
    answer = continuing(make_dispatcher(), second, stage)

    stream = answer("Count the words", system="Be terse.")
    text = "".join([c async for c in stream])

    assert text == WHOLE
    assert stream.get_text() == WHOLE and stream.done
    [event] = stage.events
    assert event.provider == second and event.prefix_chars == len(DELIVERED)
    if how == "follow":
        assert event.repeated_chars == 0
    elif how == "restart":
        assert event.repeated_chars == len(DELIVERED)
    else:
        assert event.repeated_chars == len(" ".join(DELIVERED.split()[-3:]))


@pytest.mark.parametrize(
    ("second", "mode", "expected_tail"),
    [
        ("anthropic", None, [{"role": "assistant", "content": DELIVERED.rstrip()}]),
        (
            "anthropic",
            "instruction",
            [
                {"role": "assistant", "content": DELIVERED},
                {"role": "user", "content": CONTINUE_INSTRUCTION},
            ],
        ),
        (
            "openai",
            None,
            [
                {"role": "assistant", "content": DELIVERED},
                {"role": "user", "content": CONTINUE_INSTRUCTION},
            ],
        ),
        ("openai", "continue_final_message", [{"role": "assistant", "content": DELIVERED}]),
        ("openai", "prefill", [{"role": "assistant", "content": DELIVERED}]),
        (
            "google",
            None,
            [
                {"role": "assistant", "content": DELIVERED},
                {"role": "user", "content": CONTINUE_INSTRUCTION},
            ],
        ),
    ],
)
async def test_each_provider_is_asked_the_way_its_api_follows(
    second: str,
    mode: str | None,
    expected_tail: list[dict[str, str]],
    fake_server: FakeProviderServer,
    make_dispatcher: Any,
) -> None:
    extra = {"continuation": mode} if mode else {}
    providers = {second: {**fake_provider_entry(fake_server, second), **extra}}
    fake_server.enqueue(Script(text=WHOLE, drop_after=CUT), provider=FIRST[second])
    fake_server.enqueue(Script(text=WHOLE, continuation="follow"), provider=second)
    answer = continuing(make_dispatcher(providers=providers), second, Continuations())

    assert await answer("Count the words", system="Be terse.").collect()

    continuation = fake_server.requests[-1]
    assert continuation.provider == second
    assert continuation.system == "Be terse."  # the system prompt stays where it was
    assert continuation.messages == [{"role": "user", "content": "Count the words"}, *expected_tail]
    flags = {
        k: continuation.body[k]
        for k in ("continue_final_message", "add_generation_prompt")
        if k in continuation.body
    }
    if mode == "continue_final_message":
        assert flags == {"continue_final_message": True, "add_generation_prompt": False}
    else:
        assert flags == {}


async def test_the_instruction_can_be_replaced_in_the_configuration(
    fake_server: FakeProviderServer, make_dispatcher: Any
) -> None:
    mine = "Go on from the last word. Nothing else."
    providers = {
        "google": {**fake_provider_entry(fake_server, "google"), "continuation_instruction": mine}
    }
    fake_server.enqueue(Script(text=WHOLE, drop_after=CUT), provider="openai")
    fake_server.enqueue(Script(text=WHOLE, continuation="follow"), provider="google")
    answer = continuing(make_dispatcher(providers=providers), "google", Continuations())
    assert (await answer("Count the words").collect()).get_text() == WHOLE
    assert fake_server.requests[-1].messages[-1] == {"role": "user", "content": mine}


def fake_provider_entry(server: FakeProviderServer, kind: str) -> dict[str, Any]:
    from conftest import TEST_KEYS, TEST_MODELS

    return {
        "kind": kind,
        "api_key": TEST_KEYS[kind],
        "base_url": server.base_url_for(kind),
        "default_model": TEST_MODELS[kind],
    }


def test_a_mode_the_provider_cannot_send_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "dispatch.yaml"
    path.write_text(
        "providers:\n"
        "  google:\n"
        "    kind: google\n"
        "    default_model: gemini-2.5-flash\n"
        "    continuation: prefill\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{path}:5 providers.google.continuation:" in message
    assert "cannot continue with 'prefill' (it takes: instruction)" in message
