"""Google Gemini, through ``google-genai``.

Streams ``Client.aio.models.generate_content_stream``. Gemini has no closing event: the chunk
that carries ``candidates[0].finish_reason`` is the last one, so a stream that ends without
a finish reason raises ``IncompleteStreamError`` (the SDK itself ends silently).

Reading: the provider's ``parser`` setting says who reads the stream (``fast`` unless set):
``sdk`` iterates the SDK's ``GenerateContentResponse`` s; ``fast`` lets the SDK build, send
and check the request, then splits and parses the body itself (:mod:`.google_fast`), for the
same events and errors at a fraction of the CPU per chunk. Either way the chunks go through
one :class:`~.google_reading.AnswerReader` (``read`` / ``read_data``).

Every field is optional: a chunk without candidates (or a candidate without ``content`` /
``parts``, a part without ``text``) carries nothing; unknown fields are ignored.
Each part of ``candidates[0].content`` is read in order (:mod:`.google_reading`): a text
part is text, a part with ``thought: True`` is reasoning (never text), a ``function_call``
part is one whole :class:`~llm_dispatch.events.ToolCallDelta` (Gemini does not stream a
call's arguments: its id when Gemini gives one, its name, ``json.dumps(args)``, its
``thought_signature`` as base64 text), and a ``thought_signature`` on any other part is a
``reasoning_signature`` event. ``STOP`` after function calls is the ``tool_calls`` finish
reason. Usage is read from ``usage_metadata``, which may be on every chunk, on the last
only, or nowhere: each count is the latest one reported, and a count a chunk leaves out
keeps its earlier value. No count at all: ``usage`` is None.

Choices worth knowing:

- The SDK streams over aiohttp (installed here). The provider gives it its own
  ``aiohttp.ClientSession`` (:mod:`.google_http`): its connector applies
  ``settings.connect_timeout`` to each new connection, which the SDK's own timeouts leave
  without one, and no other deadline is set (the dispatcher enforces those).
- Closing early: closing the SDK's stream does not close the HTTP response. The session
  records the response each stream opens (under either parser), and the provider closes
  it itself when the stream ends, fails or is closed.
- Retries: ``HttpRetryOptions(attempts=1)``. Setting retry options at all also turns off the
  SDK's hidden one-shot reconnect after a 1–10 s sleep on aiohttp connection errors.
  ``automatic_continuation`` is off, so one request is one HTTP exchange.
- Credentials: with ``api_key`` / ``base_url`` unset the SDK reads ``GOOGLE_API_KEY`` or
  ``GEMINI_API_KEY`` (the former wins) and ``GOOGLE_GEMINI_BASE_URL`` itself.
- Request mapping: ``system`` → ``system_instruction``; a trailing assistant message becomes
  a ``model`` turn; ``max_tokens`` → ``max_output_tokens``; JSON mode →
  ``response_mime_type="application/json"`` plus ``response_json_schema`` for a JSON schema.
- Content: a turn that holds only text is one text part. Otherwise each part in order:
  text → ``text``; an image, audio or a document → ``inline_data`` (``mime_type`` and the
  bytes, which the SDK base64-encodes) for bytes, ``file_data`` (``file_uri`` and
  ``mime_type``) for a URL; a tool call → ``function_call`` (with its ``thought_signature``);
  Gemini's own reasoning → a thought part, other kinds' left out. A ``tool`` message is a
  ``user`` turn of ``function_response`` parts (consecutive ones are one turn).
- Tools (:mod:`.google_tools`): one ``Tool`` of function declarations (the JSON schema as
  ``parameters_json_schema``), ``tool_choice`` → ``tool_config.function_calling_config``;
  ``reasoning`` → ``thinking_config``. Automatic function calling is disabled: the SDK
  never runs a tool itself.
- Options (:data:`~.options.GOOGLE_OPTIONS`): each is the ``GenerateContentConfig`` field
  of the same name, except ``extra_headers`` and ``extra_body``, which go in the config's
  ``http_options`` (``headers``, ``extra_body``): the SDK adds the headers to the client's
  and merges the body into the request it built. A config the SDK refuses raises
  ``BadRequestError`` before anything is sent.
- A prompt Gemini blocks (``prompt_feedback.block_reason``, no candidates) raises
  ``ContentFilterError``, and so does a candidate that finishes for a filter reason
  (``SAFETY``, ``PROHIBITED_CONTENT`` ... see ``_FILTERED``), after the text delivered so
  far; the message names the blocked safety categories.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ..errors import ErrorKind, ProviderError
from ..events import ProviderEvent
from ..request import Request
from .base import Provider, ProviderSettings
from .classify import (
    describe_exception,
    incomplete_error,
    kind_for_labels,
    kind_for_status,
    make_error,
    refusal_error,
    retry_after_from_headers,
    transport_error_kind,
)
from .credentials import API_KEY_ENV_VARS
from .google_fast import FastParserUnavailable, fast_gemini_chunks
from .google_http import first_chunk, new_session
from .google_reading import AnswerReader, usage_of
from .google_request import contents_of, generation_config
from .google_values import UnreadableAnswer
from .stream_reading import close_quietly, normalise_finish_reason

if TYPE_CHECKING:
    import aiohttp
    from google.genai import Client

__all__ = ["GoogleProvider"]

_FILTERED = (
    "safety",
    "recitation",
    "blocklist",
    "prohibited_content",
    "spii",
    "image_safety",
    "image_prohibited_content",
    "image_recitation",
    "model_armor",
)
_FINISH_REASONS = {
    "stop": "stop",
    "max_tokens": "length",
    **dict.fromkeys(_FILTERED, "content_filter"),
}
_API_KEY_INVALID = re.compile(r"API_KEY_INVALID|API key not valid", re.IGNORECASE)


class GoogleProvider(Provider):
    """Streams Gemini ``generate_content_stream`` as :class:`ProviderEvent`."""

    credential_env_vars: ClassVar[tuple[str, ...]] = API_KEY_ENV_VARS["google"]

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._client: Client | None = None
        self._session: aiohttp.ClientSession | None = None

    async def stream(self, request: Request, model: str) -> AsyncGenerator[ProviderEvent, None]:
        chars = 0
        opened: list[Any] = []
        chunks: AsyncGenerator[Any, None] | None = None
        failure: ProviderError | None = None
        reader = AnswerReader()
        try:
            client = await self._get_client()
            # The SDK's annotation wants its ContentDict; these dicts have that shape.
            contents: Any = contents_of(request, self.settings, model)
            config = generation_config(request, self.settings, model)
            if self.settings.parser == "fast":
                # The raw body, split and parsed here (see providers/google_fast.py).
                chunks = fast_gemini_chunks(client, model, contents, config, opened)
                read: Callable[[Any], list[ProviderEvent]] = reader.read_data
                chunk: Any = await anext(chunks, None)
            else:
                # Annotated as an AsyncIterator, but it is an async generator, which we close.
                chunks = cast(
                    "AsyncGenerator[Any, None]",
                    await client.aio.models.generate_content_stream(
                        model=model, contents=contents, config=config
                    ),
                )
                read = reader.read
                chunk = await first_chunk(chunks, opened)
            while chunk is not None:
                for event in read(chunk):
                    chars += len(event.text)
                    yield event
                if reader.blocked_prompt is not None:
                    raise make_error(self, ErrorKind.CONTENT_FILTER, reader.blocked_prompt, model)
                chunk = await anext(chunks, None)
        except Exception as exc:
            failure = self.failure(exc, model, request)
        finally:
            for response in opened:
                response.close()
            if chunks is not None:
                await close_quietly(chunks.aclose)
        if failure is not None:
            raise failure
        if reader.finish_reason is None:
            raise incomplete_error(self, model, "a finish_reason", chars)
        finish = normalise_finish_reason(reader.finish_reason, _FINISH_REASONS)
        if finish == "content_filter":
            raise refusal_error(self, model, reader.finish_reason, chars, reader.blocked_for)
        if finish == "stop" and reader.calls:
            finish = "tool_calls"
        yield ProviderEvent(usage=usage_of(reader.counts), finish_reason=finish)

    def map_error(self, exc: BaseException, model: str) -> ProviderError:
        if isinstance(exc, ProviderError):
            return exc
        from google.genai import errors as genai_errors

        if isinstance(exc, genai_errors.APIError):
            return self._map_api_error(exc, model)
        if isinstance(exc, genai_errors.UnknownApiResponseError | UnreadableAnswer):
            return make_error(self, ErrorKind.MALFORMED, describe_exception(exc), model)
        if isinstance(exc, FastParserUnavailable):
            return make_error(self, ErrorKind.BAD_REQUEST, str(exc), model)
        kind = _aiohttp_error_kind(exc) or transport_error_kind(exc)
        if kind is None and isinstance(exc, ValueError) and "API key" in str(exc):
            kind = ErrorKind.AUTH
        return make_error(self, kind or ErrorKind.SERVER, describe_exception(exc), model)

    def _map_api_error(self, exc: Any, model: str) -> ProviderError:
        """An HTTP error status, or an ``{"error": {...}}`` chunk mid-stream (same class)."""
        status = exc.code if isinstance(exc.code, int) else None
        message = exc.message or str(exc)
        details = _error_details(exc.details)
        text = " ".join([str(exc.status), message, *(str(d.get("reason", "")) for d in details)])
        if status is not None and status >= 400:
            kind = kind_for_status(status, text)
        else:
            kind = kind_for_labels(exc.status) or ErrorKind.SERVER
        if kind is ErrorKind.BAD_REQUEST and _API_KEY_INVALID.search(text):
            kind = ErrorKind.AUTH
        headers = getattr(exc.response, "headers", None)
        return make_error(
            self,
            kind,
            message,
            model,
            status_code=status,
            retry_after=retry_after_from_headers(headers) or _retry_delay(details),
        )

    async def _prepare(self) -> None:
        await self._get_client()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        session, self._session = self._session, None
        if client is not None:
            await client.aio.aclose()
            client.close()
        if session is not None:
            await session.close()

    async def _get_client(self) -> Client:
        if self._client is None:
            self._client = await self._make_client()
        return self._client

    async def _make_client(self) -> Client:
        from google import genai
        from google.genai import types

        settings = self.settings
        session = new_session(settings.connect_timeout)
        options = types.HttpOptions(
            base_url=settings.base_url,
            headers=settings.header_values() or None,
            retry_options=types.HttpRetryOptions(attempts=1),
            aiohttp_client=session,
        )
        try:
            client = genai.Client(**self._client_arguments(), http_options=options)
        except BaseException:
            await session.close()
            raise
        self._session = session
        return client

    def _client_arguments(self) -> dict[str, Any]:
        """What ``genai.Client`` is given besides its HTTP options: the API key."""
        key = self.settings.api_key
        return {"api_key": key.get_secret_value() if key is not None else None}


def _aiohttp_error_kind(exc: BaseException) -> ErrorKind | None:
    import aiohttp

    if isinstance(exc, aiohttp.ServerTimeoutError | asyncio.TimeoutError):
        return ErrorKind.TIMEOUT
    if isinstance(exc, aiohttp.ClientResponseError):
        return kind_for_status(exc.status, exc.message)
    if isinstance(exc, aiohttp.ClientError):
        return ErrorKind.CONNECTION
    return None


def _error_details(details: Any) -> list[dict[str, Any]]:
    """The ``error.details`` entries of a Google API error body."""
    error = details.get("error", details) if isinstance(details, dict) else None
    items = error.get("details") if isinstance(error, dict) else None
    return [d for d in items if isinstance(d, dict)] if isinstance(items, list) else []


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail (``"retryDelay": "13s"``), if any."""
    for detail in details:
        if str(detail.get("@type", "")).endswith("RetryInfo"):
            delay = str(detail.get("retryDelay", "")).removesuffix("s")
            try:
                return max(0.0, float(delay))
            except ValueError:
                return None
    return None
