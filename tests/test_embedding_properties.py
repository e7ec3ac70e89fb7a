"""Property tests: a signed stream verifies, strips back and extracts exactly; any single
change to it is never ``valid``, and the verdict is the one that explains the change.

Texts are signed two ways — a ``StreamingHandler`` fed drawn chunks, and the dispatcher's
``EmbeddingStage`` driven like the dispatcher drives it — then changed once: a visible
character inserted, deleted or replaced; a selector inserted, deleted or replaced anywhere
(inside our frames or not); two adjacent characters swapped; one of our frames duplicated
or dropped; the text cut short. The one change that stays valid is the documented one: a
line break after the trailer, which is not part of the signed text.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_dispatch.context import StreamContext
from llm_dispatch.embedding import EmbeddingStage, StreamingHandler, VerifyStatus
from llm_dispatch.embedding.codec import bytes_to_selectors, is_selector, selector_byte
from llm_dispatch.embedding.options import RESERVED_FIELDS
from llm_dispatch.embedding.verify import extract, strip, verify
from llm_dispatch.request import Message, Request
from llm_dispatch.task_types import TaskType

try:
    from embedding_strategies import chunked, metadatas, targets, texts
except ImportError:  # tests/ imported as a package
    from tests.embedding_strategies import chunked, metadatas, targets, texts

KEY = "property-key-0123456789"
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TAMPERED = frozenset({VerifyStatus.TAMPERED})
# A change inside a frame breaks that frame: a broken trailer leaves a header without
# one (truncated); a header whose bytes still parse may name another key id (wrong_key).
IN_TRAILER = frozenset({VerifyStatus.TAMPERED, VerifyStatus.TRUNCATED})
IN_HEADER = IN_TRAILER | {VerifyStatus.WRONG_KEY}


@dataclass(frozen=True)
class Signed:
    """A signed text, what it must strip and extract to, and where our frames sit."""

    text: str
    visible: str
    metadata: dict[str, Any]
    header_spans: tuple[tuple[int, int], ...]
    trailer_span: tuple[int, int]

    def frames(self) -> list[tuple[int, int]]:
        return [*self.header_spans, self.trailer_span]

    def visible_indexes(self) -> list[int]:
        inside = {i for start, end in self.frames() for i in range(start, end)}
        return [i for i in range(len(self.text)) if i not in inside]

    def touched(self, positions: list[int]) -> frozenset[VerifyStatus]:
        """The verdicts that explain a change to the characters at ``positions``."""
        allowed: set[VerifyStatus] = set()
        for i in positions:
            for start, end in self.header_spans:
                if start <= i < end:
                    allowed |= IN_HEADER
            if self.trailer_span[0] <= i < self.trailer_span[1]:
                allowed |= IN_TRAILER
        return frozenset(allowed)

    def inside_frames(self, gap: int) -> frozenset[VerifyStatus]:
        """The verdicts for something inserted before ``text[gap]``: it splits a frame
        only when that frame starts before ``gap`` and ends after it."""
        return self.touched([gap] if any(s < gap < e for s, e in self.frames()) else [])


def _fixed_nonce(draw: Any) -> Any:
    """Sign with a drawn nonce instead of a random one, so that a failing example replays
    exactly (and hypothesis explores nonces too)."""
    nonce = draw(st.binary(min_size=8, max_size=8))
    return mock.patch("llm_dispatch.embedding.handler.urandom", lambda size: nonce[:size])


def _signed(text: str, visible: str, metadata: dict[str, Any]) -> Signed:
    result = verify(text, KEY)
    assert result.status is VerifyStatus.VALID, result.message
    assert result.trailer_span is not None
    return Signed(text, visible, metadata, result.header_spans, result.trailer_span)


@st.composite
def handler_streams(draw: Any) -> Signed:
    text = draw(texts)
    metadata = draw(metadatas)
    with _fixed_nonce(draw):
        handler = StreamingHandler(
            metadata,
            draw(targets),
            KEY,
            draw(st.booleans()),
            min_buffer_size=draw(st.sampled_from([0, 0, 3])),
        )
    chunks = chunked(draw, text)
    ends_with_finalize = draw(st.booleans())
    out = [
        handler.process_chunk(c, is_final=not ends_with_finalize and i == len(chunks) - 1)
        for i, c in enumerate(chunks)
    ]
    if ends_with_finalize:
        out.append(handler.finalize()["tail"])
    return _signed("".join(out), text, metadata)


def _context(cached: bool) -> StreamContext:
    request = Request(
        messages=(Message(role="user", content="q"),), task_type=TaskType.CODE_GENERATION
    )
    ctx = StreamContext(
        request=request, request_id="req-1", provider="openai", model="gpt-4o", cached=cached
    )
    ctx.contributors.append("openai")
    return ctx


async def _drive(stage: EmbeddingStage, ctx: StreamContext, chunks: list[str]) -> str:
    """What the dispatcher does with the stage: start, each chunk, then the end text."""
    await stage.on_start(ctx)
    out = [await stage.on_chunk(ctx, chunk) for chunk in chunks]
    out.append(await stage.on_end(ctx))
    return "".join(out)


@st.composite
def stage_streams(draw: Any) -> Signed:
    text = draw(texts)
    fields = {k: v for k, v in draw(metadatas).items() if k not in RESERVED_FIELDS}
    stage = EmbeddingStage(
        hmac_key=KEY,
        target=draw(targets),
        encode_first_chunk_only=draw(st.booleans()),
        fields=fields,
    )
    ctx = _context(cached=draw(st.booleans()))
    chunks = chunked(draw, text)
    timestamp = mock.patch(
        "llm_dispatch.embedding.stage.utc_timestamp", lambda: "2025-06-01T12:34:56.789Z"
    )
    with _fixed_nonce(draw), timestamp:
        signed = asyncio.run(_drive(stage, ctx, chunks))
    metadata = ctx.values[EmbeddingStage.summary_key]["metadata"]
    assert {k: metadata[k] for k in fields} == fields
    return _signed(signed, text, metadata)


any_stream = handler_streams() | stage_streams()
visible_chars = st.characters(codec="utf-8").filter(lambda c: not is_selector(c))
selectors = st.integers(0, 255).map(lambda b: bytes_to_selectors(bytes([b])))


@dataclass(frozen=True)
class Change:
    text: str
    allowed: frozenset[VerifyStatus]
    what: str
    #: For a change to visible text only: what the message must name.
    reason: str | None = None


def _visible_change(signed: Signed, text: str, what: str, *, at_end: bool = False) -> Change:
    reason = "follow the signature trailer" if at_end else "signature does not match"
    return Change(text, TAMPERED, what, reason)


@st.composite
def single_changes(draw: Any, signed: Signed) -> Change:
    text = signed.text
    n = len(text)
    visible = signed.visible_indexes()
    selector_at = [i for i in range(n) if is_selector(text[i])]
    kinds = ["insert visible", "insert selector", "swap", "duplicate frame", "drop frame"]
    kinds += ["truncate"]
    if visible:
        kinds += ["delete visible", "replace visible"]
    if selector_at:
        kinds += ["delete selector", "replace selector"]
    kind = draw(st.sampled_from(kinds))

    if kind in ("insert visible", "insert selector"):
        gap = draw(st.integers(0, n))
        char = draw(visible_chars if kind == "insert visible" else selectors)
        edited = text[:gap] + char + text[gap:]
        what = f"{kind} {char!r} at {gap}"
        if gap == n and char == "\n":
            return Change(edited, frozenset({VerifyStatus.VALID}), what)
        inside = signed.inside_frames(gap)
        if inside:
            return Change(edited, inside, what)
        return _visible_change(signed, edited, what, at_end=gap == n)
    if kind == "delete visible":
        i = draw(st.sampled_from(visible))
        return _visible_change(signed, text[:i] + text[i + 1 :], f"delete {text[i]!r} at {i}")
    if kind == "replace visible":
        i = draw(st.sampled_from(visible))
        char = draw(visible_chars)
        if char == text[i]:  # (not a filter: draws must not depend on the text's bytes)
            char = "x" if text[i] != "x" else "y"
        edited = text[:i] + char + text[i + 1 :]
        return _visible_change(signed, edited, f"replace {text[i]!r} by {char!r} at {i}")
    if kind in ("delete selector", "replace selector"):
        i = draw(st.sampled_from(selector_at))
        if kind == "delete selector":
            edited, what = text[:i] + text[i + 1 :], f"delete selector at {i}"
        else:
            byte = (draw(st.integers(1, 255)) + selector_byte(text[i])) % 256  # never the same
            edited = text[:i] + bytes_to_selectors(bytes([byte])) + text[i + 1 :]
            what = f"replace selector at {i}"
        return Change(edited, signed.touched([i]) or TAMPERED, what)
    if kind == "swap":
        i = draw(st.integers(0, n - 2))
        if text[i] == text[i + 1]:  # swapping equal characters is no change: drop one
            edited, what = text[:i] + text[i + 1 :], f"delete at {i} (equal neighbours)"
        else:
            edited, what = text[:i] + text[i + 1] + text[i] + text[i + 2 :], f"swap at {i}"
        return Change(edited, signed.touched([i, i + 1]) or TAMPERED, what)
    if kind == "duplicate frame":
        start, end = draw(st.sampled_from(signed.frames()))
        # Anywhere a frame does not straddle: next to itself, or in the visible text.
        gaps = [g for g in range(n + 1) if not any(s < g < e for s, e in signed.frames())]
        gap = draw(st.sampled_from(gaps))
        edited = text[:gap] + text[start:end] + text[gap:]
        return Change(edited, TAMPERED, f"copy of frame {start}:{end} at {gap}")
    if kind == "drop frame":
        start, end = draw(st.sampled_from(signed.frames()))
        dropped_trailer = (start, end) == signed.trailer_span
        allowed = frozenset({VerifyStatus.TRUNCATED if dropped_trailer else VerifyStatus.TAMPERED})
        return Change(text[:start] + text[end:], allowed, f"drop frame {start}:{end}")
    cut = draw(st.integers(0, n - 1))
    # Cut short: truncated while a whole header frame is left, else nothing of ours is.
    kept_header = any(end <= cut for _, end in signed.header_spans)
    status = VerifyStatus.TRUNCATED if kept_header else VerifyStatus.NO_METADATA
    return Change(text[:cut], frozenset({status}), f"cut at {cut}")


@FAST
@given(any_stream)
def test_a_signed_stream_verifies_strips_and_extracts_exactly(signed: Signed) -> None:
    result = verify(signed.text, KEY)
    assert result.status is VerifyStatus.VALID and not result.ignored_line_break
    assert strip(signed.text) == signed.visible
    assert extract(signed.text) == result.metadata == signed.metadata


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), any_stream)
def test_any_single_change_is_never_valid_and_says_why(data: Any, signed: Signed) -> None:
    change = data.draw(single_changes(signed))
    assert change.text != signed.text, change.what
    result = verify(change.text, KEY)
    assert result.status in change.allowed, (change.what, result.status, result.message)
    if change.allowed == {VerifyStatus.VALID}:
        # The one change that stays valid: a line break after the trailer, ignored.
        assert result.ignored_line_break and strip(change.text) == signed.visible + "\n"
        assert not verify(change.text, KEY, ignore_line_break=False).valid
    if change.reason is not None:
        assert change.reason in result.message, (change.what, result.message)
