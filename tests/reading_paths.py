"""Which code read a provider's stream, observed rather than mocked.

:func:`functions_run` records every Python function called while it is open (with
``sys.setprofile``, on this thread: the event loop's); :func:`openai_reading_paths` says
from those whether the OpenAI SDK's ``AsyncStream`` read a body (``sdk``) or the library's
raw-body reader did (``fast``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: The function of the OpenAI SDK that iterates a stream's events.
SDK_STREAM = "openai._streaming:AsyncStream.__stream__"
#: The library's raw-body readers of OpenAI streams (chat completions, Responses API).
FAST_READERS = frozenset(
    {
        "llm_dispatch.providers.openai_fast:fast_chat_chunks",
        "llm_dispatch.providers.openai_responses_fast:fast_response_events",
    }
)


@contextmanager
def functions_run() -> Iterator[set[str]]:
    """The ``module:qualname`` of each Python function called inside the block."""
    seen: set[str] = set()

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            seen.add(f"{frame.f_globals.get('__name__')}:{frame.f_code.co_qualname}")

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


def openai_reading_paths(seen: set[str]) -> set[str]:
    """``sdk`` if the SDK's stream iterated a body, ``fast`` if a raw-body reader did."""
    paths = {"sdk"} if SDK_STREAM in seen else set()
    return paths | ({"fast"} if seen & FAST_READERS else set())
