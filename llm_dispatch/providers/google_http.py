"""The aiohttp session the Gemini provider hands to google-genai.

google-genai streams over aiohttp. Two things its own session does not do are done here:

- a connect timeout: the SDK replaces the session's timeouts with a single per-request
  ``total`` timeout, which leaves no connect timeout (and would cut long streams if set).
  The session's connector applies the provider's ``connect_timeout`` to each new
  connection; no other deadline is set (the dispatcher enforces those);
- closing the response: the SDK wraps the HTTP response in several nested async
  generators, and closing the outer one does not close the response (it lives on until
  garbage collection). The session's trace hook records the response a stream opens while
  :func:`first_chunk` waits (or inside :func:`recording_responses`), so the provider can
  close it itself, or read its body (``parser: fast``).

aiohttp is imported when the first session is made, not with this module.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import aiohttp

__all__ = ["first_chunk", "new_session", "recording_responses"]

_T = TypeVar("_T")

# Same as google-genai's own session: Gemini chunks may carry large inline data.
_READ_BUFFER_SIZE = 4 * 1024 * 1024

# Set only while a stream waits for the SDK to send its request, so the session's trace hook
# can hand the opened response to that stream.
_OPENED_RESPONSES: ContextVar[list[Any] | None] = ContextVar("_OPENED_RESPONSES", default=None)


def new_session(connect_timeout: float) -> aiohttp.ClientSession:
    """A session whose new connections time out after ``connect_timeout`` seconds and whose
    responses :func:`first_chunk` records; the caller closes it."""
    import aiohttp

    return aiohttp.ClientSession(
        connector=_connector_class()(connect_timeout, limit=0),
        trust_env=True,
        read_bufsize=_READ_BUFFER_SIZE,
        trace_configs=[_response_recorder()],
    )


async def first_chunk(iterator: AsyncIterator[_T], opened: list[Any]) -> _T | None:
    """Pull the first chunk, recording into ``opened`` the HTTP response the SDK opens for it
    on a :func:`new_session` session."""
    with recording_responses(opened):
        return await anext(iterator, None)


@contextlib.contextmanager
def recording_responses(opened: list[Any]) -> Iterator[None]:
    """Record into ``opened`` each HTTP response a :func:`new_session` session opens inside
    the block (once its status and headers are in, before its body is read).

    Wrap one await at a time, so that the marker never leaks into the consumer's context (a
    generator may be driven from several tasks).
    """
    token = _OPENED_RESPONSES.set(opened)
    try:
        yield
    finally:
        _OPENED_RESPONSES.reset(token)


async def _record_response(session: Any, context: Any, params: Any) -> None:
    opened = _OPENED_RESPONSES.get()
    if opened is not None:
        opened.append(params.response)


def _response_recorder() -> aiohttp.TraceConfig:
    import aiohttp

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_record_response)
    return trace


@functools.cache
def _connector_class() -> Callable[..., aiohttp.TCPConnector]:
    """A TCP connector that bounds how long opening a new connection may take."""
    import aiohttp

    class ConnectTimeoutConnector(aiohttp.TCPConnector):
        def __init__(self, connect_timeout: float, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.connect_timeout = connect_timeout

        # Overrides aiohttp's method, which is called with ``timeout=`` by keyword.
        async def connect(
            self,
            req: Any,
            traces: Any,
            timeout: aiohttp.ClientTimeout,
        ) -> aiohttp.connector.Connection:
            if timeout.sock_connect is None:
                timeout = aiohttp.ClientTimeout(
                    total=timeout.total,
                    connect=timeout.connect,
                    sock_read=timeout.sock_read,
                    sock_connect=self.connect_timeout,
                    ceil_threshold=timeout.ceil_threshold,
                )
            return await super().connect(req, traces, timeout)

    return ConnectTimeoutConnector
