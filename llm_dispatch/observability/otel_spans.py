"""Spans through the OpenTelemetry API: one per stream, a child per try.

The stream's span (kind ``INTERNAL``) starts when the call started, as a child of whatever
span is current where the stream is iterated; each try of a target is a child span of it
(kind ``CLIENT``), from the moment the try starts to its end. Both are named
``chat {model}`` (the stream's span after the target that served it, the last tried when
none did) and carry the GenAI conventions' attributes (:mod:`.names`;
``docs/observability.md`` lists every one). Only counts, names and kinds go into
attributes: never a prompt, an answer, an error message or a setting's value.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer

from ..events import Usage
from . import names as n
from .facts import StreamFacts, TryFacts

__all__ = ["SpanSink"]

_SCOPE = "llm_dispatch"


class SpanSink:
    """Writes each stream and try as spans of ``tracer`` (see the module docstring)."""

    def __init__(self, tracer_provider: trace.TracerProvider | None = None) -> None:
        from .. import __version__

        self.tracer: Tracer = trace.get_tracer(_SCOPE, __version__, tracer_provider=tracer_provider)

    def stream_started(self, stream: StreamFacts) -> None:
        stream.handle = self.tracer.start_span(
            f"{n.OPERATION} {stream.model}",
            kind=SpanKind.INTERNAL,
            start_time=stream.started_ns,
            attributes={
                n.GEN_AI_OPERATION_NAME: n.OPERATION,
                n.GEN_AI_REQUEST_MODEL: stream.model,
                n.GEN_AI_REQUEST_STREAM: True,
                n.PROVIDER: stream.provider,
                n.REQUEST_ID: stream.request_id,
                n.TASK_TYPE: stream.task_type,
            },
        )

    def try_started(self, stream: StreamFacts, tried: TryFacts) -> None:
        parent = trace.set_span_in_context(stream.handle) if stream.handle is not None else None
        tried.handle = self.tracer.start_span(
            f"{n.OPERATION} {tried.model}",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes={
                n.GEN_AI_OPERATION_NAME: n.OPERATION,
                n.GEN_AI_PROVIDER_NAME: tried.system,
                n.GEN_AI_REQUEST_MODEL: tried.model,
                n.GEN_AI_REQUEST_STREAM: True,
                n.PROVIDER: tried.provider,
                n.ATTEMPT: tried.number,
                n.CACHE_HIT: tried.cached,
            },
        )

    def try_ended(self, stream: StreamFacts, tried: TryFacts) -> None:
        span = tried.handle
        if span is None:
            return
        attributes: dict[str, Any] = {}
        if tried.opened:
            attributes[n.GEN_AI_RESPONSE_MODEL] = tried.model
            attributes[n.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = tried.ttft
        if tried.finish_reason is not None:
            attributes[n.GEN_AI_RESPONSE_FINISH_REASONS] = (tried.finish_reason,)
        record = tried.record
        if record is not None and record.charged:
            _usage(attributes, record.usage)
        if record is not None and record.cost_usd is not None:
            attributes[n.COST_USD] = record.cost_usd
        span.set_attributes(attributes)
        _end(span, tried.error_type, failed=tried.failed)

    def stream_ended(self, stream: StreamFacts) -> None:
        span = stream.handle
        if span is None:
            return
        provider, model, system = stream.served_by
        if model != stream.model:
            span.update_name(f"{n.OPERATION} {model}")
        attributes: dict[str, Any] = {
            n.GEN_AI_PROVIDER_NAME: system,
            n.GEN_AI_REQUEST_MODEL: model,
            n.PROVIDER: provider,
            n.OUTCOME: stream.outcome,
            n.ATTEMPTS: len(stream.tries),
            n.RETRIES: len(stream.retries),
            n.FALLBACKS: len(stream.fallbacks),
            n.INTERRUPTIONS: len(stream.interruptions),
            n.CACHE_HIT: stream.cache_hit is not None,
        }
        if stream.route:
            attributes[n.ROUTE] = stream.route
        answered = stream.answered_by
        if answered is not None:
            attributes[n.GEN_AI_RESPONSE_MODEL] = answered.model
        if stream.ttft is not None:
            attributes[n.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = stream.ttft
        if stream.finish_reason is not None:
            attributes[n.GEN_AI_RESPONSE_FINISH_REASONS] = (stream.finish_reason,)
        if stream.usage is not None:
            _usage(attributes, stream.usage)
        if stream.cost_usd is not None:
            attributes[n.COST_USD] = stream.cost_usd
        hit = stream.cache_hit
        if hit is not None:
            attributes[n.CACHE_MATCH] = "exact" if hit.exact else "similar"
            attributes[n.CACHE_SIMILARITY] = hit.similarity
        span.set_attributes(attributes)
        _end(span, stream.error_type, failed=stream.error_type is not None)


def _usage(attributes: dict[str, Any], usage: Usage) -> None:
    attributes[n.GEN_AI_USAGE_INPUT_TOKENS] = usage.prompt_tokens
    attributes[n.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.completion_tokens
    attributes[n.USAGE_ESTIMATED] = usage.estimated
    if usage.cached_input_tokens:
        attributes[n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = usage.cached_input_tokens
    if usage.cache_write_tokens:
        attributes[n.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = usage.cache_write_tokens
    if usage.reasoning_tokens:
        attributes[n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = usage.reasoning_tokens


def _end(span: Any, error: str | None, *, failed: bool) -> None:
    """Set ``error.type`` (how it ended, when not with an answer) and end ``span``; its
    status is ``ERROR`` only when it ``failed`` (a hedge's loser did not)."""
    if error is not None:
        span.set_attribute(n.ERROR_TYPE, error)
        if failed:
            span.set_status(Status(StatusCode.ERROR, error))
    span.end()
