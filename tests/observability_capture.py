"""What the observability tests read back: spans from the OpenTelemetry SDK's in-memory
exporter, metric points from its in-memory reader, samples from a Prometheus registry of
the test's own (imported explicitly by tests/test_observability*.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry, generate_latest

from llm_dispatch import llm_stream
from llm_dispatch.observability import Instrumentation, instrument


class OpenSpans(SpanProcessor):
    """The spans started and not ended yet."""

    def __init__(self) -> None:
        self.spans: dict[int, Span] = {}

    def on_start(self, span: Span, parent_context: Any = None) -> None:
        self.spans[span.context.span_id] = span

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.pop(span.context.span_id, None)


@dataclass
class Telemetry:
    """One test's exporters, reader and registry, and the instrumentation feeding them."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    registry: CollectorRegistry
    instrumentation: Instrumentation
    unended: OpenSpans

    def open_spans(self) -> list[str]:
        """The names of the spans started and not ended yet."""
        return [span.name for span in self.unended.spans.values()]

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def streams(self) -> list[ReadableSpan]:
        """The streams' spans, in the order they ended."""
        return [s for s in self.spans() if s.kind is SpanKind.INTERNAL]

    def tries(self, stream: ReadableSpan) -> list[ReadableSpan]:
        """The try spans under ``stream``, in the order they started."""
        under = [s for s in self.spans() if s.parent is not None and s.parent == stream.context]
        return sorted(under, key=lambda s: s.start_time or 0)

    def stream(self) -> tuple[ReadableSpan, list[ReadableSpan]]:
        """The one stream span, and its tries."""
        [stream] = self.streams()
        return stream, self.tries(stream)

    def points(self, name: str) -> list[tuple[dict[str, Any], Any]]:
        """(attributes, data point) of the metric ``name``."""
        found: list[tuple[dict[str, Any], Any]] = []
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found += [(dict(p.attributes or {}), p) for p in metric.data.data_points]
        return found

    def sample(self, name: str, **labels: str) -> float | None:
        return self.registry.get_sample_value(name, labels)

    def exposition(self) -> str:
        return generate_latest(self.registry).decode()


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Every part of the observability on, into in-memory exporters of this test's own."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    unended = OpenSpans()
    tracer_provider.add_span_processor(unended)
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    registry = CollectorRegistry()
    with instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        prometheus_registry=registry,
    ) as instrumentation:
        yield Telemetry(exporter, reader, registry, instrumentation, unended)
    tracer_provider.shutdown()
    meter_provider.shutdown()


def answer_with(dispatcher: Any, **options: Any) -> Any:
    """A decorated stream on ``dispatcher`` with the decorator's ``options``."""

    @llm_stream(dispatcher=dispatcher, **options)
    async def answer(prompt: str) -> Any:
        yield "unused"

    return answer
