"""The SSE splitter of the fast parsers against the decoders of the OpenAI and Anthropic
SDKs: the same events from every line form, wherever the body is split."""

from __future__ import annotations

import itertools

import pytest
from anthropic._streaming import SSEDecoder as AnthropicDecoder
from hypothesis import given
from hypothesis import strategies as st
from openai._streaming import SSEDecoder as OpenAIDecoder

from llm_dispatch.providers.sse import ServerEvent, SseSplitter

BODY = (
    b": comment\r\n"
    b'data: {"a": 1}\n\n'
    b"event: named\ndata:first\ndata: second\r\n\r\n"
    b"retry: 5\n\n"
    b"data: caf\xc3\xa9\r\rdata:  two spaces\n\n"
    b"data: unterminated"
)
# Plain events (one match each), and events between them that are read line by line.
PLAIN = (
    b'event: content_block_delta\ndata: {"type": "content_block_delta"}\n\n'
    b"data: no name\n\n"
    b"event:  two spaces\ndata:  two spaces\n\n"
    b"event:\ndata:\n\n"
    b"event: caf\xc3\xa9\ndata: \xc3\xa9t\xc3\xa9\n\n"
    b"data: two\ndata: lines\n\n"
    b"event: c\n: a comment between\ndata: x\n\n"
    b"id: 3\ndata: with an id\n\n"
    b"data: [DONE]\n\n"
)
# The fields that make an event, or do not, without a data line.
CORNERS = (
    b"retry: soon\n\n"
    b"retry: 5\n\n"
    b"event\n\n"
    b"event\ndata\n\n"
    b"data\ndata\n\n"
    b"other: field\n\n"
    b"id: a\x00b\n\n"
    b"id: 7\n\n\n"
    b"data: after an id\n\n\n\n"
    b"id:\n\n\n"
    b"data: the id is gone\n\n\n"
)
BODIES = {"body": BODY, "plain": PLAIN, "corners": CORNERS}


def sdk_events(decoder: type, chunks: list[bytes]) -> list[ServerEvent]:
    return [ServerEvent(e.event, e.data) for e in decoder().iter_bytes(iter(chunks))]


def split_events(chunks: list[bytes]) -> list[ServerEvent]:
    splitter = SseSplitter()
    return [event for piece in chunks for event in splitter.feed(piece)]


def test_the_splitter_reads_every_line_form() -> None:
    assert split_events([BODY]) == [
        ServerEvent(None, '{"a": 1}'),
        ServerEvent("named", "first\nsecond"),
        ServerEvent(None, ""),
        ServerEvent(None, "café"),
        ServerEvent(None, " two spaces"),
    ]
    assert split_events([PLAIN]) == [
        ServerEvent("content_block_delta", '{"type": "content_block_delta"}'),
        ServerEvent(None, "no name"),
        ServerEvent(" two spaces", " two spaces"),
        ServerEvent(None, ""),
        ServerEvent("café", "été"),
        ServerEvent(None, "two\nlines"),
        ServerEvent("c", "x"),
        ServerEvent(None, "with an id"),
        ServerEvent(None, "[DONE]"),
    ]
    assert split_events([CORNERS]) == [
        ServerEvent(None, ""),  # retry: 5
        ServerEvent(None, ""),  # event, data
        ServerEvent(None, "\n"),  # data, data
        *[ServerEvent(None, "")] * 2,  # id: 7, and the blank line after it
        ServerEvent(None, "after an id"),
        *[ServerEvent(None, "")] * 2,  # the blank lines while the id lasts
        ServerEvent(None, "the id is gone"),
    ]


@pytest.mark.parametrize("decoder", [OpenAIDecoder, AnthropicDecoder])
@pytest.mark.parametrize("name", list(BODIES))
def test_the_splitter_gives_the_sdks_events(name: str, decoder: type) -> None:
    body = BODIES[name]

    assert split_events([body]) == sdk_events(decoder, [body])
    assert split_events([bytes([b]) for b in body]) == sdk_events(decoder, [body])


@given(
    st.sampled_from(sorted(BODIES)),
    st.lists(st.integers(min_value=0, max_value=max(map(len, BODIES.values()))), max_size=12),
)
def test_the_splitter_gives_the_sdks_events_wherever_the_body_is_split(
    name: str, cuts: list[int]
) -> None:
    body = BODIES[name]
    bounds = [0, *sorted(min(cut, len(body)) for cut in cuts), len(body)]
    pieces = [body[a:b] for a, b in itertools.pairwise(bounds)]

    expected = split_events([body])
    assert split_events(pieces) == expected
    assert sdk_events(OpenAIDecoder, pieces) == expected
    assert sdk_events(AnthropicDecoder, pieces) == expected


def test_plain_events_and_the_lines_after_them_are_read_in_order() -> None:
    pieces = [
        b"event: a\ndata: 1\n\nevent: b\nda",
        b"ta: 2\n\nid: 1\ndata: x\r",
        # This "\n" ends the line of that "\r": one blank line follows it, not two (after
        # an id each would make an event).
        b"\n\ndata: y\n\n",
    ]
    splitter = SseSplitter()

    assert [splitter.feed(piece) for piece in pieces] == [
        [ServerEvent("a", "1")],
        [ServerEvent("b", "2")],
        [ServerEvent(None, "x"), ServerEvent(None, "y")],
    ]
    assert split_events(pieces) == sdk_events(OpenAIDecoder, pieces)
