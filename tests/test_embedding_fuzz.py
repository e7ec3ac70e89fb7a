"""Fuzzing the extractor on arbitrary text: ``verify`` / ``extract`` / ``strip`` never raise
on any string (runs of variation selectors, stray and forged frames, pieces of real signed
texts spliced into others), and ``verify`` never says ``valid`` for a text the key did not
sign: whatever it accepts strips back to a text that was signed, with that signing's
metadata. (test_embedding_properties.py covers signed texts changed once; this covers text
nobody signed, or signed pieces put together anew.)"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_dispatch.embedding import StreamingHandler, VerifyStatus
from llm_dispatch.embedding.codec import KINDS, MAGIC, bytes_to_selectors, encode_frame
from llm_dispatch.embedding.verify import extract, strip, verify

KEY = "fuzz-key-0123456789abcdef"
OTHER_KEY = "another-key-0123456789ab"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def signed(visible: str, metadata: dict[str, Any], key: str = KEY) -> str:
    handler = StreamingHandler(metadata, "whitespace", key)
    return handler.process_chunk(visible, is_final=True)


#: Texts signed with KEY (and one with another key, one unsigned), whose frames the fuzz
#: splices elsewhere: (visible text, metadata, signed text).
SIGNED = [
    (v, m, signed(v, m))
    for v, m in [
        ("The answer is 42.", {"model": "m1"}),
        ("Hello there, world", {"model": "m2", "n": 7}),
        ("one two three four five six", {}),
    ]
]
FOREIGN = [signed("The answer is 42.", {"model": "m1"}, OTHER_KEY)]
FOREIGN.append(StreamingHandler({"x": 1}, "whitespace", sign=False).process_chunk("a b c", True))


def frames_of(text: str) -> list[str]:
    result = verify(text, None)
    spans = [*result.header_spans, *([result.trailer_span] if result.trailer_span else [])]
    return [text[a:b] for a, b in spans]


PIECES = [f for _, _, s in SIGNED for f in frames_of(s)] + [
    f for s in FOREIGN for f in frames_of(s)
]
SELECTORS = bytes_to_selectors(bytes(range(256)))
selector_runs = st.text(alphabet=st.sampled_from(SELECTORS), min_size=1, max_size=400)
magic_led = st.binary(max_size=60).map(lambda b: bytes_to_selectors(MAGIC + b))
forged = st.builds(encode_frame, st.sampled_from(KINDS), st.binary(max_size=80))
words = st.text(alphabet=st.characters() | st.sampled_from([" ", "\n", "❤", "\u200d"]), max_size=12)
arbitrary = st.lists(
    words
    | selector_runs
    | magic_led
    | forged
    | st.sampled_from(PIECES)
    | st.sampled_from([s for _, _, s in SIGNED] + FOREIGN),
    max_size=12,
).map("".join)


def visible_after_verify(text: str, line_break: bool) -> str:
    out = strip(text)
    if line_break:
        out = out.removesuffix("\r\n") if out.endswith("\r\n") else out.removesuffix("\n")
    return out


@FUZZ
@given(arbitrary)
def test_arbitrary_text_never_raises_and_is_valid_only_as_signed(text: str) -> None:
    result = verify(text, KEY)
    assert isinstance(result.status, VerifyStatus)
    assert isinstance(result.message, str) and result.message
    found = extract(text)
    assert found is None or isinstance(found, dict)
    stripped, everything = strip(text), strip(text, all_payloads=True)
    assert len(everything) <= len(stripped) <= len(text)
    # Without a key nothing is valid (the texts OTHER_KEY signed are in the mix too).
    assert verify(text, None).status is not VerifyStatus.VALID
    if result.status is VerifyStatus.VALID:
        visible = visible_after_verify(text, result.ignored_line_break)
        matches = [m for v, m, _ in SIGNED if v == visible]
        assert matches, f"valid, but {visible!r} was never signed"
        assert any(result.metadata is not None and m.items() <= result.metadata.items()
                   for m in matches)  # fmt: skip


@FUZZ
@given(selector_runs, st.text(max_size=20), st.text(max_size=20))
def test_variation_selector_runs_anywhere_are_never_valid(
    run: str, before: str, after: str
) -> None:
    for text in (run, before + run + after, run * 3):
        result = verify(text, KEY)
        assert result.status is not VerifyStatus.VALID
        assert extract(text) is None or result.status is not VerifyStatus.NO_METADATA
        strip(text)
        strip(text, all_payloads=True)


@FUZZ
@given(st.sampled_from(SIGNED), st.integers(0, 40), words)
def test_a_signed_text_with_anything_inserted_is_not_valid(
    item: tuple[str, dict[str, Any], str], at: int, inserted: str
) -> None:
    visible, _, text = item
    at = min(at, len(text))
    changed = text[:at] + inserted + text[at:]
    result = verify(changed, KEY)
    if result.status is VerifyStatus.VALID:
        # Only what the signature does not cover: nothing, or one line break at the end.
        assert visible_after_verify(changed, result.ignored_line_break) == visible
