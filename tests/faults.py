"""The faults of the fault matrix and the soak: what a primary provider is scripted to do,
and what must follow (see reliability.py for the invariant every outcome keeps)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reliability import FIRST_TOKEN, IDLE, RETRY_AFTER_CAP, WHOLE, K

from llm_dispatch.errors import BadRequestError
from llm_dispatch.testing import Script


@dataclass(frozen=True)
class Fault:
    """What the primary is scripted to do (``scripts(key)``: one script per request, the
    error texts quoting the canary ``key`` back as some APIs do), and what must follow.

    ``attempts`` / ``requests``: the ledger's records and the requests the server saw
    when the stream completes; ``mid_stream``: the fault strikes after text (``raise`` then
    ends with ``StreamInterrupted`` after :data:`DELIVERED`; ``continue`` completes with
    one more attempt); ``fails``: the error class when nothing may follow (no fallback).
    """

    scripts: Callable[[str], list[Script]]
    attempts: int
    requests: int
    mid_stream: bool = False
    fails: type[BaseException] | None = None
    refused: bool = False
    slowest: float = 0.0


def status(code: int, times: int, **fields: Any) -> Callable[[str], list[Script]]:
    def scripts(key: str) -> list[Script]:
        message = f"Incorrect API key provided: {key}"
        return [Script(status=code, error_message=message, **fields) for _ in range(times)]

    return scripts


def stream(**fields: Any) -> Callable[[str], list[Script]]:
    return lambda key: [Script(text=WHOLE, error_message=f"bad key {key}", **fields)]


def twice(**fields: Any) -> Callable[[str], list[Script]]:
    return lambda key: [Script(text=WHOLE, error_message=f"bad key {key}", **fields)] * 2


FAULTS: dict[str, Fault] = {
    # Retry-After honoured (capped), then the same target answers.
    "429 Retry-After": Fault(
        lambda key: [
            Script(status=429, retry_after=1, error_kind="rate_limit", error_message=key),
            Script(text=WHOLE),
        ],
        attempts=2,
        requests=2,
        slowest=RETRY_AFTER_CAP,
    ),
    # Retried with backoff, then the fallback answers.
    "429": Fault(status(429, 2, error_kind="rate_limit"), attempts=3, requests=3),
    "500": Fault(status(500, 2, error_kind="server"), attempts=3, requests=3),
    "503": Fault(status(503, 2), attempts=3, requests=3),
    "529": Fault(status(529, 2), attempts=3, requests=3),
    # Not retried; the fallback answers.
    "401": Fault(status(401, 1), attempts=2, requests=2),
    # About the request: no retry, no fallback.
    "400": Fault(status(400, 1, error_kind="bad_request"), 1, 1, fails=BadRequestError),
    "connection refused": Fault(lambda key: [], attempts=3, requests=1, refused=True),
    # The first-token deadline closes the request; the retry answers.
    "slow first token": Fault(
        lambda key: [Script(text=WHOLE, first_delay=FIRST_TOKEN * 4), Script(text=WHOLE)],
        attempts=2,
        requests=2,
        slowest=FIRST_TOKEN,
    ),
    "error event before text": Fault(
        twice(error_event_after=0, error_kind="server"), attempts=3, requests=3
    ),
    # After K chunks: raise, or the fallback continues.
    "drop after K": Fault(stream(drop_after=K), 2, 2, mid_stream=True),
    "stall": Fault(stream(chunk_delay=IDLE * 4), 2, 2, mid_stream=True, slowest=IDLE),
    "malformed event": Fault(stream(malformed_after=K), 2, 2, mid_stream=True),
    "error event after text": Fault(
        stream(error_event_after=K, error_kind="overloaded"), 2, 2, mid_stream=True
    ),
    "cut without closing event": Fault(stream(cut_after=K), 2, 2, mid_stream=True),
}
