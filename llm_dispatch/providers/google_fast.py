"""``parser: fast``: the chunks of a Gemini stream (``streamGenerateContent?alt=sse``) read
from the raw HTTP body.

google-genai still builds the request (contents, config, tools, the API key header, base
URL and API version, ``http_options`` with their extra headers and body), sends it, and
raises its own ``errors.APIError`` family for an HTTP error status. The body is then read
here instead of through the SDK, whose pydantic ``GenerateContentResponse`` per chunk is
most of a chunk's cost: it is split into events by :class:`~.sse.SseSplitter` and each
event's data parsed with the standard ``json`` module. :func:`fast_gemini_chunks` yields
each chunk's JSON object, for :meth:`~.google_reading.AnswerReader.read_data`.

The SDK interface: google-genai has no public way to send a streaming request without
reading its body, so one private method is used, ``client.aio.models.
_generate_content_stream(model=, contents=, config=)``: the one-request step the public
``generate_content_stream`` ends in (after its MCP, automatic function calling and
automatic continuation handling, all of which the provider turns off). Awaiting it builds
and sends the request and checks the status; what it returns is a generator that has not
read the body yet, which is closed unread. The HTTP response is the one the provider's own
aiohttp session records meanwhile (:func:`~.google_http.recording_responses`); the
provider closes it when the stream ends, fails or is closed. ``tests/test_google_parsers.py``
checks this contract against the installed SDK; if a future SDK breaks it, the stream
fails with an error that says so (``parser: sdk`` does not use it).

The failures are the SDK's own, so that the provider classifies them alike:

- a chunk whose first field is ``error`` raises the ``errors.APIError`` subclass the SDK
  raises for it (``errors.APIError.raise_error_async`` with the error's ``code``);
- data that is not JSON raises ``errors.UnknownApiResponseError``, with the SDK's message
  (which quotes the data with each line's trailing whitespace removed, as the SDK reads
  lines);
- a transport failure while reading is aiohttp's own exception, as under the SDK.

JSON that is not an object is a chunk without fields, as the SDK reads it. The body is read
to its end (Gemini has no closing event), and then its connection released for reuse.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from .google_http import recording_responses
from .sse import SseSplitter

if TYPE_CHECKING:
    from google.genai import Client
    from google.genai.types import GenerateContentConfig

__all__ = ["FastParserUnavailable", "fast_gemini_chunks"]

_SDK_CHANGED = (
    "parser: fast cannot read Gemini streams with this google-genai version (awaiting "
    "AsyncModels._generate_content_stream no longer sends the request); use parser: sdk"
)


class FastParserUnavailable(RuntimeError):
    """The installed google-genai no longer sends a request as :func:`fast_gemini_chunks`
    needs it to."""


async def fast_gemini_chunks(
    client: Client,
    model: str,
    contents: list[dict[str, Any]],
    config: GenerateContentConfig,
    opened: list[Any],
) -> AsyncGenerator[dict[str, Any], None]:
    """Send the streaming request for ``model`` / ``contents`` / ``config`` through the SDK
    and yield the JSON object of each chunk of its answer (see the module doc). The HTTP
    response is appended to ``opened``; the caller closes it."""
    from google.genai import errors

    send = getattr(client.aio.models, "_generate_content_stream", None)
    if send is None:
        raise FastParserUnavailable(_SDK_CHANGED)
    with recording_responses(opened):
        unread = await send(model=model, contents=contents, config=config)
    if len(opened) != 1 or not hasattr(unread, "aclose"):
        raise FastParserUnavailable(_SDK_CHANGED)
    # Not started, so closing it reads nothing and runs none of its clean-up.
    await unread.aclose()
    response = opened[0]
    splitter = SseSplitter()
    async for raw in response.content.iter_any():
        for event in splitter.feed(raw):
            try:
                data = json.loads(event.data)
            except json.JSONDecodeError:
                data = _as_the_sdk_reads(event.data)
            if type(data) is not dict:
                data = {}
            elif data and next(iter(data)) == "error":
                # As the SDK reads it: an error that is not an object fails here alike.
                error: Any = data["error"]
                await errors.APIError.raise_error_async(error.get("code"), data, response)
            yield data
    response.release()


def _as_the_sdk_reads(text: str) -> Any:
    """Data that is not JSON as is, parsed as the SDK parses it: each line without its
    trailing whitespace; still not JSON, ``errors.UnknownApiResponseError``."""
    from google.genai import errors

    stripped = "\n".join(line.rstrip() for line in text.split("\n"))
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise errors.UnknownApiResponseError(
            f"Failed to parse response as JSON. Raw response: {stripped}"
        ) from exc
