"""Streaming to the web: the SSE encoding, and the example app over real HTTP on 127.0.0.1
(uvicorn serving FastAPI, the fake provider server answering): text and chunk events in
order, the done event with usage, an error event with the partial text, a client that goes
away closing the provider stream, and the page in headless Chromium."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
from conftest import TEST_KEYS, TEST_MODELS, fake_providers
from hypothesis import given
from hypothesis import strategies as st

from llm_dispatch import ChunkMetadata, DispatchStream, llm_stream
from llm_dispatch.testing import FakeProviderServer, Script
from llm_dispatch.testing.logs import capture_events
from llm_dispatch.web import SSEEvent, encode_event, error_payload, read_events, sse_events

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "web_app.py"
TIMEOUT = aiohttp.ClientTimeout(total=10)


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("web_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


web_app = load_example()


# -- the encoding ---------------------------------------------------------------------------


async def _bytes(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def parse(body: bytes, size: int = 7) -> list[SSEEvent]:
    return [event async for event in read_events(_bytes(body, size))]


async def test_each_line_of_the_data_is_a_data_line() -> None:
    assert encode_event("one\ntwo", event="text", id="3") == (
        "event: text\nid: 3\ndata: one\ndata: two\n\n"
    )
    assert encode_event("a\r\nb\rc\n") == "data: a\ndata: b\ndata: c\ndata: \n\n"
    [event] = await parse(encode_event(" x\n\ny", event="text", id="0").encode(), size=1)
    assert event == SSEEvent(event="text", data=" x\n\ny", id="0")
    with pytest.raises(ValueError, match="line break"):
        encode_event("x", event="te\nxt")


@given(st.lists(st.text(alphabet=st.sampled_from("ab é\n\r€")), max_size=8), st.integers(1, 9))
async def test_any_text_comes_back_with_its_line_breaks_as_lf(chunks: list[str], size: int) -> None:
    body = "".join(encode_event(c, event="text", id=str(i)) for i, c in enumerate(chunks))
    events = await parse(body.encode(), size)
    expected = [c.replace("\r\n", "\n").replace("\r", "\n") for c in chunks]
    assert [e.data for e in events] == expected
    assert [e.id for e in events] == [str(i) for i in range(len(chunks))]


# -- the app over HTTP ----------------------------------------------------------------------


#: USD per million tokens (input, output) of OpenAI's test model.
PRICES = {"input": 0.15, "output": 0.60}


@pytest.fixture
async def app_url(
    make_dispatcher: Callable[..., Any], fake_server: FakeProviderServer
) -> AsyncIterator[str]:
    """The example app, its calls served by ``fake_server`` (OpenAI's priced, no fallback),
    on a free port of 127.0.0.1."""
    openai = fake_providers(fake_server)["openai"]
    openai["prices"] = {TEST_MODELS["openai"]: PRICES}
    dispatcher = make_dispatcher(defaults={"fallback": False}, providers={"openai": openai})
    async with web_app.serving(web_app.create_app(dispatcher)) as url:
        yield url


async def events_of(url: str, **params: str) -> list[SSEEvent]:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(url + "/ask", params=params) as response,
    ):
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        return [event async for event in read_events(response.content.iter_any())]


def no_secret_in(events: list[SSEEvent]) -> None:
    for event in events:
        for key in TEST_KEYS.values():
            assert key not in event.data


CHUNKS = ["First line.\n", "Second", " line,\nthird line", " and the end."]


async def test_text_events_in_order_then_the_done_event(
    app_url: str, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, usage=(5, 8), finish_reason="length"))

    events = await events_of(app_url, q="Tell me")

    *texts, done = events
    assert [e.event for e in texts] == ["text"] * len(CHUNKS)
    assert [e.data for e in texts] == CHUNKS
    assert [e.id for e in events] == [str(i) for i in range(len(events))]
    assert done.event == "done"
    final = json.loads(done.data)
    assert final["status"] == "complete" and final["finish_reason"] == "length"
    assert final["usage"]["prompt_tokens"] == 5 and final["usage"]["completion_tokens"] == 8
    assert (final["provider"], final["model"]) == ("openai", TEST_MODELS["openai"])
    assert final["cost_usd"] == pytest.approx((5 * 0.15 + 8 * 0.60) / 1e6)
    [recorded] = fake_server.requests
    assert recorded.prompt == "Tell me" and recorded.completed


async def test_metadata_streams_chunk_dicts_as_json(
    app_url: str, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(
        Script(chunks=CHUNKS, reasoning="Think first.", usage=(5, 8)), provider="openai"
    )

    events = await events_of(app_url, q="Tell me", metadata="true")

    *chunks, done = events
    assert {e.event for e in chunks} == {"chunk"} and done.event == "done"
    items = [json.loads(e.data) for e in chunks]
    for item in items:
        assert ChunkMetadata(**item).model_dump(mode="json") == item
    assert [i["kind"] for i in items if i["kind"] != "text"] == ["reasoning", "reasoning"]
    assert "".join(i["reasoning"] or "" for i in items).strip() == "Think first."
    assert [i["chunk"] for i in items if i["kind"] == "text" and not i["is_final"]] == CHUNKS
    assert items[-1]["is_final"] and items[-1]["usage"]["completion_tokens"] == 8
    assert json.loads(done.data)["usage"] == items[-1]["usage"]


async def test_a_dropped_provider_stream_ends_with_an_error_event_and_the_partial_text(
    app_url: str, fake_server: FakeProviderServer
) -> None:
    chunks = [f"word{i}\n" for i in range(10)]
    fake_server.enqueue(Script(chunks=chunks, drop_after=4))

    events = await events_of(app_url, q="Tell me")

    *texts, error = events
    assert [e.data for e in texts] == chunks[:4]
    assert error.event == "error"
    failure = json.loads(error.data)
    assert failure["status"] == "error" and failure["error"] == "StreamInterrupted"
    assert failure["kind"] == "connection"
    assert failure["partial_text"] == "".join(chunks[:4])
    assert "interrupted after" in failure["message"]
    no_secret_in(events)


async def test_a_failure_before_any_text_is_an_error_event_without_the_key(
    app_url: str, fake_server: FakeProviderServer
) -> None:
    fake_server.default = Script(status=401, error_message=f"bad key {TEST_KEYS['openai']}")

    [error] = await events_of(app_url, q="Tell me")

    failure = json.loads(error.data)
    assert error.event == "error" and failure["kind"] == "auth"
    assert failure["partial_text"] == ""
    no_secret_in([error])


async def test_a_client_that_goes_away_closes_the_provider_stream(
    app_url: str, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(chunks=[f"c{i} " for i in range(200)], chunk_delay=0.02))

    received: list[str] = []
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        response = await http.get(app_url + "/ask", params={"q": "go"})
        async for event in read_events(response.content.iter_any()):
            received.append(event.data)
            if len(received) == 3:
                break
        response.close()  # drop the connection, as a closed browser tab does

    assert received == ["c0 ", "c1 ", "c2 "]
    [recorded] = fake_server.requests
    await recorded.wait_done(timeout=3.0)
    assert recorded.disconnected and not recorded.completed
    assert recorded.chunks_sent < 50


class Closed(list[DispatchStream[Any]]):
    """The dispatch streams whose ``aclose`` ran, in order; ``first`` is set with the first."""

    def __init__(self) -> None:
        super().__init__()
        self.first = asyncio.Event()


@pytest.fixture
def closed_streams(monkeypatch: pytest.MonkeyPatch) -> Closed:
    closed = Closed()
    aclose = DispatchStream.aclose

    async def spy(self: DispatchStream[Any]) -> None:
        closed.append(self)
        closed.first.set()
        await aclose(self)

    monkeypatch.setattr(DispatchStream, "aclose", spy)
    return closed


async def test_closing_the_events_closes_the_dispatch_stream_at_once(
    make_dispatcher: Callable[..., Any],
    fake_server: FakeProviderServer,
    closed_streams: Closed,
) -> None:
    # What a server that stops iterating (instead of cancelling) does: close the generator.
    fake_server.enqueue(Script(chunks=[f"c{i} " for i in range(200)], chunk_delay=0.02))

    @llm_stream(dispatcher=make_dispatcher())
    async def answer(prompt: str) -> Any:
        yield "offline stand-in"

    stream = answer("go")
    events = sse_events(stream)
    async with asyncio.timeout(5):
        received = [await anext(events) for _ in range(3)]
        await events.aclose()

    assert [e.split(b"data: ")[1] for e in received] == [b"c0 \n\n", b"c1 \n\n", b"c2 \n\n"]
    assert closed_streams == [stream]
    [recorded] = fake_server.requests
    await recorded.wait_done(timeout=3.0)
    assert recorded.disconnected and recorded.chunks_sent < 50


async def test_a_client_that_goes_away_stops_a_burst_of_buffered_chunks(
    app_url: str, fake_server: FakeProviderServer, closed_streams: Closed
) -> None:
    # The provider sends the whole answer at once: read from buffers, the stream could run
    # to its end without waiting for the network, so without a turn after each event the
    # server would not see the client gone before every event went out.
    chunks = [f"c{i} " for i in range(200)]
    fake_server.enqueue(Script(chunks=chunks))
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        response = await http.get(app_url + "/ask", params={"q": "go"})
        async for event in read_events(response.content.iter_any()):
            if event.id == "2":
                break
        response.close()
        await asyncio.wait_for(closed_streams.first.wait(), 3)

    [stream] = closed_streams
    assert not stream.done
    assert len(stream.get_text()) < len("".join(chunks)) // 2


async def test_a_reconnecting_event_source_is_told_to_stop(
    app_url: str, fake_server: FakeProviderServer
) -> None:
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(app_url + "/ask", params={"q": "go"}, headers={"Last-Event-ID": "4"}) as reply,
    ):
        assert reply.status == 204
    assert fake_server.requests == []


def test_an_exception_from_outside_the_library_is_reported_without_its_text(
    make_dispatcher: Callable[..., Any],
) -> None:
    @llm_stream(dispatcher=make_dispatcher())
    async def answer(prompt: str) -> Any:
        yield "offline stand-in"

    stream = answer("go")
    secret = TEST_KEYS["openai"]
    with capture_events() as logged:
        payload = error_payload(RuntimeError(f"key {secret}"), "So far", stream)

    assert payload == {
        "status": "error",
        "error": "internal_error",
        "kind": None,
        "message": "the server failed while streaming the answer",
        "partial_text": "So far",
        "request_id": stream.request_id,
    }
    [record] = [e for e in logged if e["event"] == "web.stream_failed"]
    assert record["log_level"] == "error" and record["error_type"] == "RuntimeError"


# -- the page in a browser ------------------------------------------------------------------


#: Headless, as root, and offline: no background requests, no name lookups, and any
#: address but the loopback one sent to a closed port as its proxy.
CHROMIUM_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
)


def browser_or_skip() -> tuple[str, str]:
    """The Chromium and chromedriver binaries. Missing, the test is skipped, unless
    ``LLM_DISPATCH_REQUIRE_BROWSER`` is set (CI sets it): then it fails."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    found = {"chromium": chromium, "chromedriver": driver}
    missing = [name for name, path in found.items() if not path]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if missing:
        why = f"{' and '.join(missing)} not found (apt-get install chromium chromium-driver)"
        if os.environ.get("LLM_DISPATCH_REQUIRE_BROWSER"):
            pytest.fail(f"LLM_DISPATCH_REQUIRE_BROWSER is set but {why}")
        pytest.skip(why)
    assert chromium is not None and driver is not None
    return chromium, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver_path = browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(10)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


def state_of(driver: Any) -> tuple[str, str, str]:
    """The page's status state, status text and answer text, as the DOM has them now."""
    found: list[str] = driver.execute_script(
        "const s = document.getElementById('status');"
        "return [s.dataset.state, s.textContent, document.getElementById('answer').textContent];"
    )
    return found[0], found[1], found[2]


async def wait_for(
    driver: Any, test: Callable[[tuple[str, str, str]], bool], timeout: float = 10.0
) -> tuple[str, str, str]:
    """Poll the page (from a thread: the server runs on this loop) until ``test`` holds."""
    async with asyncio.timeout(timeout):
        while True:
            state = await asyncio.to_thread(state_of, driver)
            if test(state):
                return state
            await asyncio.sleep(0.05)


async def ask_in_page(driver: Any, url: str, question: str) -> None:
    def type_and_send() -> None:
        from selenium.webdriver.common.by import By

        driver.get(url + "/")
        box = driver.find_element(By.ID, "question")
        box.clear()
        box.send_keys(question)
        driver.find_element(By.ID, "send").click()

    await asyncio.to_thread(type_and_send)


async def test_the_page_shows_the_answer_as_it_streams(
    browser: Any, app_url: str, fake_server: FakeProviderServer
) -> None:
    chunks = [*CHUNKS, *(f" more{i}" for i in range(12))]
    fake_server.enqueue(Script(chunks=chunks, chunk_delay=0.05, usage=(5, 8)))

    await ask_in_page(browser, app_url, "Stream to the page")

    # Part of the answer shows while the stream is still going ...
    _, _, partial = await wait_for(
        browser, lambda s: s[0] == "streaming" and s[2].startswith("First line.\nSecond")
    )
    assert len(partial) < len("".join(chunks))
    # ... and all of it, line breaks included, once the done event came.
    _, status, answer = await wait_for(browser, lambda s: s[0] in ("done", "error"))
    assert answer == "".join(chunks)
    assert status.startswith("done (stop) by ") and "13 tokens" in status
    assert fake_server.requests[0].prompt == "Stream to the page"


async def test_the_page_shows_a_failure_after_the_partial_answer(
    browser: Any, app_url: str, fake_server: FakeProviderServer
) -> None:
    fake_server.enqueue(Script(chunks=CHUNKS, drop_after=2))

    await ask_in_page(browser, app_url, "Fail half way")

    state, status, answer = await wait_for(browser, lambda s: s[0] in ("done", "error"))
    assert (state, answer) == ("error", "".join(CHUNKS[:2]))
    assert status.startswith("failed (connection): stream from ")
    await asyncio.sleep(0.3)  # and the page does not ask again
    assert len(fake_server.requests) == 1
