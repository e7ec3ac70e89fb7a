"""A real HTTP server on 127.0.0.1 that streams like OpenAI, Anthropic and Gemini.

The official SDKs talk to it unmodified; every answer can be scripted with faults.

    async with FakeProviderServer() as server:
        server.enqueue(Script(status=429, retry_after=1), provider="openai")
        client = openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test")
        ...
        assert server.requests[0].status == 429

Routes: ``POST /v1/chat/completions`` (OpenAI and compatible servers), ``POST /v1/responses``
(OpenAI's Responses API; recorded as provider ``openai``), ``POST /v1/messages``
(Anthropic), ``POST /{version}/models/{model}:streamGenerateContent`` (Gemini), and the
cloud platforms' paths to them (:mod:`.wire_cloud`: Azure OpenAI, Claude and Gemini on
Vertex AI; :mod:`.wire_bedrock`: Claude on Bedrock, in AWS's binary event stream), each
recorded under its cloud kind's name.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .parts import media_tokens
from .script import RecordedRequest, Script
from .wire import Wire
from .wire_anthropic import AnthropicWire
from .wire_bedrock import BedrockWire
from .wire_cloud import AzureOpenAIWire, VertexAnthropicWire, VertexGeminiWire
from .wire_google import GoogleWire
from .wire_openai import OpenAIWire
from .wire_openai_responses import OpenAIResponsesWire

__all__ = ["FakeProviderServer"]

ScriptFactory = Callable[[RecordedRequest], Script]


class FakeProviderServer:
    """Scripted fake of the three providers' streaming APIs.

    Scripts are queued with :meth:`enqueue` and consumed in order by the first request whose
    provider and model they match; a request that matches no queued script gets
    :attr:`default` (a script, or a callable building one from the recorded request).
    Every request is appended to :attr:`requests` (the last ``keep_requests`` of them
    when that is set). :attr:`in_flight` counts the requests being answered now, and
    :attr:`peak_in_flight` the most at once since the server started (or was reset).
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, keep_requests: int | None = None
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fake provider server only listens on the loopback interface")
        self.host = host
        self.port = port
        self.requests: list[RecordedRequest] = []
        #: How many recorded requests :attr:`requests` keeps (None: all of them).
        self.keep_requests = keep_requests
        self.default: Script | ScriptFactory = Script()
        self._queue: list[Script] = []
        self._runner: web.AppRunner | None = None
        self._openai = OpenAIWire()
        self._openai_responses = OpenAIResponsesWire()
        self._anthropic = AnthropicWire()
        self._google = GoogleWire()
        self._azure = AzureOpenAIWire()
        self._vertex_anthropic = VertexAnthropicWire()
        self._vertex_gemini = VertexGeminiWire()
        self._bedrock = BedrockWire()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.in_flight = 0
        self.peak_in_flight = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeProviderServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._handle_openai)
        app.router.add_post("/chat/completions", self._handle_openai)
        app.router.add_post("/v1/responses", self._handle_openai_responses)
        app.router.add_post("/responses", self._handle_openai_responses)
        app.router.add_post("/v1/messages", self._handle_anthropic)
        app.router.add_post("/{version}/models/{model_action}", self._handle_google)
        app.router.add_post("/openai/deployments/{deployment}/chat/completions", self._handle_azure)
        vertex = "/{version}/projects/{project}/locations/{location}/publishers"
        app.router.add_post(vertex + "/anthropic/models/{model_action}", self._handle_vertex_claude)
        app.router.add_post(vertex + "/google/models/{model_action}", self._handle_vertex_gemini)
        app.router.add_post("/model/{model}/invoke-with-response-stream", self._handle_bedrock)
        # handler_cancellation: a client that goes away cancels the handler at once, which
        # is how the server notices disconnects while it is sleeping between chunks.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeProviderServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def google_base_url(self) -> str:
        return self.url

    def base_url_for(self, kind: str) -> str:
        return {
            "openai": self.openai_base_url,
            "anthropic": self.anthropic_base_url,
            "google": self.google_base_url,
            # The Azure endpoint; Vertex AI's Anthropic base (which holds the version);
            # Vertex AI's Gemini endpoint; Bedrock's runtime endpoint.
            "azure_openai": self.url,
            "anthropic_vertex": f"{self.url}/v1",
            "google_vertex": self.url,
            "anthropic_bedrock": self.url,
        }[kind]

    # -- scripting ---------------------------------------------------------------------------

    def enqueue(
        self,
        *scripts: Script,
        provider: str | None = None,
        model: str | None = None,
        times: int = 1,
    ) -> None:
        """Queue scripts (each ``times`` times), optionally restricted to a provider/model."""
        for script in scripts:
            if provider is not None:
                script.provider = provider
            if model is not None:
                script.model = model
            self._queue.extend([script] * times)

    def reset(self) -> None:
        """Forget queued scripts and recorded requests."""
        self._queue.clear()
        self.requests.clear()
        self.default = Script()
        self.peak_in_flight = self.in_flight

    def requests_for(self, provider: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.provider == provider]

    def _pick(self, rec: RecordedRequest) -> Script:
        for i, script in enumerate(self._queue):
            if script.matches(rec.provider, rec.model):
                return self._queue.pop(i)
        return self.default(rec) if callable(self.default) else self.default

    # -- handlers ----------------------------------------------------------------------------

    async def _handle_openai(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._openai)

    async def _handle_openai_responses(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._openai_responses)

    async def _handle_anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._anthropic)

    async def _handle_google(self, request: web.Request) -> web.StreamResponse:
        if not request.match_info["model_action"].endswith(":streamGenerateContent"):
            return web.json_response(
                self._google.error_body(404, "only streamGenerateContent is faked"), status=404
            )
        return await self._serve(request, self._google)

    async def _handle_azure(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._azure)

    async def _handle_vertex_claude(self, request: web.Request) -> web.StreamResponse:
        if not request.match_info["model_action"].endswith(":streamRawPredict"):
            return web.json_response(
                self._anthropic.error_body(404, "only streamRawPredict is faked"), status=404
            )
        return await self._serve(request, self._vertex_anthropic)

    async def _handle_vertex_gemini(self, request: web.Request) -> web.StreamResponse:
        if not request.match_info["model_action"].endswith(":streamGenerateContent"):
            return web.json_response(
                self._google.error_body(404, "only streamGenerateContent is faked"), status=404
            )
        return await self._serve(request, self._vertex_gemini)

    async def _handle_bedrock(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._bedrock)

    async def _serve(self, request: web.Request, wire: Wire) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = {}
        parsed = wire.parse(request.path, body)
        rec = RecordedRequest(
            provider=wire.name,
            path=request.path_qs,
            model=parsed.model,
            headers=dict(request.headers),
            body=body,
            system=parsed.system,
            messages=parsed.messages,
            parts=parsed.parts,
            json_mode=parsed.json_mode,
            tools=parsed.tools,
            tool_choice=parsed.tool_choice,
            reasoning=parsed.reasoning,
        )
        self.requests.append(rec)
        if self.keep_requests is not None and len(self.requests) > self.keep_requests:
            del self.requests[: len(self.requests) - self.keep_requests]
        script = self._pick(rec)
        rec.script = script
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return await self._answer(request, wire, rec, script)
        except ConnectionResetError:
            # The client closed its stream while we wrote: nothing more can reach it, and
            # that is no server error (aiohttp drops a response it cannot send quietly).
            rec.disconnected = True
            return web.Response(status=499, text="the client closed the connection")
        except asyncio.CancelledError:
            rec.disconnected = True
            raise
        finally:
            self.in_flight -= 1
            rec.ended_at = time.monotonic()
            rec.done.set()

    async def _answer(
        self, request: web.Request, wire: Wire, rec: RecordedRequest, script: Script
    ) -> web.StreamResponse:
        if script.first_delay:
            await asyncio.sleep(script.first_delay)
        if script.status is not None:
            rec.status = script.status
            headers = {}
            if script.retry_after is not None:
                headers["Retry-After"] = f"{script.retry_after:g}"
            rec.completed = True
            return web.json_response(
                wire.error_body(script.status, script.error_message),
                status=script.status,
                headers=headers,
            )

        steps = script.steps(rec)
        texts = [step for step in steps if step.kind == "text"]
        prompt_tokens = (
            sum(len(m["content"].split()) for m in rec.messages)
            + len((rec.system or "").split())
            + media_tokens(rec.parts)
        )
        completion = len(texts) + script.reasoning_token_count + len(script.tool_calls)
        usage = (prompt_tokens, completion) if script.send_usage else None
        if script.usage is not None and script.send_usage:
            usage = script.usage

        content_type = getattr(wire, "content_type", "text/event-stream")
        response = web.StreamResponse(
            status=200, headers={"Content-Type": content_type, "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        rec.prompt_tokens = usage[0] if usage else prompt_tokens
        for event in wire.opening(rec, rec.prompt_tokens):
            await response.write(event)

        # Gemini puts the finish reason on the last chunk: when the answer ends with text,
        # its last chunk goes out with the closing events.
        merges_last = isinstance(wire, GoogleWire) and bool(steps) and steps[-1].kind == "text"
        for position, step in enumerate(steps):
            if position == script.drop_after:
                assert request.transport is not None
                request.transport.abort()
                rec.completed = True
                return response
            if position == script.cut_after:
                await response.write_eof()
                rec.completed = True
                return response
            if position == script.error_event_after:
                await response.write(wire.error_event(rec, script.error_kind, script.error_message))
                await response.write_eof()
                rec.completed = True
                return response
            if position == script.malformed_after:
                await response.write(wire.malformed())
                await response.write_eof()
                rec.completed = True
                return response
            if position and script.chunk_delay:
                await asyncio.sleep(script.chunk_delay)
            if merges_last and position == len(steps) - 1:
                break
            if step.kind == "text":
                await response.write(wire.text(rec, step.text, step.index))
                rec.chunks_sent += 1
            elif step.kind == "reasoning":
                await response.write(wire.reasoning(rec, step.text, step.index))
            else:
                call = script.tool_calls[step.call]
                for event in wire.tool_call(rec, call, step):
                    await response.write(event)
            rec.steps_sent += 1

        last = steps[-1].text if merges_last else None
        finish = script.native_finish_reason or script.finish
        for event in wire.closing(rec, finish, usage, last):
            await response.write(event)
        if last is not None:
            rec.chunks_sent += 1
            rec.steps_sent += 1
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        rec.completed = True
        return response
