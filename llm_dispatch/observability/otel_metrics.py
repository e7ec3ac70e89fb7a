"""Metrics through the OpenTelemetry API, as the GenAI conventions name them.

- ``gen_ai.client.token.usage`` (histogram, ``{token}``): per try that a provider spent
  tokens on, its input and its output tokens (``gen_ai.token.type``), as the ledger charged
  them; a cache replay or a joined stream spent none and is not recorded;
- ``gen_ai.client.operation.duration`` (histogram, ``s``): per stream, from the call's start
  to its end, with ``error.type`` when it failed;
- ``gen_ai.client.operation.time_to_first_chunk`` (histogram, ``s``): per stream that got a
  first event, from the call's start to that event.

All are recorded when the stream ends; nothing runs per chunk.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import metrics

from . import names as n
from .facts import StreamFacts, TryFacts

__all__ = ["MetricSink"]


class MetricSink:
    """Records each stream's metrics with instruments of ``meter_provider``'s meter (the
    global provider's when None)."""

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        from .. import __version__

        meter = metrics.get_meter("llm_dispatch", __version__, meter_provider=meter_provider)
        self.tokens = meter.create_histogram(
            n.GEN_AI_CLIENT_TOKEN_USAGE,
            unit="{token}",
            description="Input and output tokens a provider spent on a try.",
            explicit_bucket_boundaries_advisory=n.TOKEN_BUCKETS,
        )
        self.duration = meter.create_histogram(
            n.GEN_AI_CLIENT_OPERATION_DURATION,
            unit="s",
            description="Seconds from a stream's call to its end.",
            explicit_bucket_boundaries_advisory=n.DURATION_BUCKETS,
        )
        self.ttft = meter.create_histogram(
            n.GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
            unit="s",
            description="Seconds from a stream's call to its first event.",
            explicit_bucket_boundaries_advisory=n.DURATION_BUCKETS,
        )

    def stream_started(self, stream: StreamFacts) -> None:
        return None

    def try_started(self, stream: StreamFacts, tried: TryFacts) -> None:
        return None

    def try_ended(self, stream: StreamFacts, tried: TryFacts) -> None:
        return None

    def stream_ended(self, stream: StreamFacts) -> None:
        for tried in stream.tries:
            spent = tried.spent
            if spent is None:
                continue
            attributes = _attributes(tried.provider, tried.system, tried.model, tried)
            self.tokens.record(
                spent.prompt_tokens, {**attributes, n.GEN_AI_TOKEN_TYPE: n.TOKEN_INPUT}
            )
            self.tokens.record(
                spent.completion_tokens, {**attributes, n.GEN_AI_TOKEN_TYPE: n.TOKEN_OUTPUT}
            )
        provider, model, system = stream.served_by
        attributes = _attributes(provider, system, model, stream.answered_by)
        if stream.error_type is not None:
            attributes[n.ERROR_TYPE] = stream.error_type
        self.duration.record(stream.duration, attributes)
        if stream.ttft is not None:
            self.ttft.record(stream.ttft, attributes)


def _attributes(
    provider: str, system: str, model: str, answered: TryFacts | None
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        n.GEN_AI_OPERATION_NAME: n.OPERATION,
        n.GEN_AI_PROVIDER_NAME: system,
        n.GEN_AI_REQUEST_MODEL: model,
        n.PROVIDER: provider,
    }
    if answered is not None and answered.opened:
        attributes[n.GEN_AI_RESPONSE_MODEL] = answered.model
    return attributes
