"""Prometheus counters and histograms (``prometheus_client``), per provider and model.

The collectors are registered on one registry when instrumentation is switched on, and
unregistered from it when it is switched off. Every value is counted when a stream ends,
from what its watch saw: each try and the ledger's record of it (a retry is a try after a
failed one on the same target), and the stream's fallback, interruption, continuation and
cache-hit events. ``provider`` is the configured
provider name, ``model`` the model name; ``docs/observability.md`` lists each metric.
"""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from . import names as n
from .facts import StreamFacts, TryFacts

__all__ = ["PrometheusSink"]

_TARGET = ("provider", "model")


class PrometheusSink:
    """The library's collectors, registered on ``registry`` (default: the global one)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = REGISTRY if registry is None else registry
        self.requests = Counter(
            "llm_dispatch_requests",
            "Streams that ended, by the target that served them and how they ended.",
            (*_TARGET, "outcome", "error_type"),
            registry=None,
        )
        self.attempts = Counter(
            "llm_dispatch_attempts",
            "Tries of a target (each retry, fallback and continuation is one), by outcome.",
            (*_TARGET, "outcome"),
            registry=None,
        )
        self.retries = Counter(
            "llm_dispatch_retries",
            "Retries of a target after a failure before its first event.",
            (*_TARGET, "error_type"),
            registry=None,
        )
        self.fallbacks = Counter(
            "llm_dispatch_fallbacks",
            "Moves from a target to the next one of the plan.",
            (*_TARGET, "to_provider", "to_model", "error_type"),
            registry=None,
        )
        self.interruptions = Counter(
            "llm_dispatch_interruptions",
            "Streams that failed after text reached the consumer (continued: the next "
            "target went on with the answer).",
            (*_TARGET, "error_type", "continued"),
            registry=None,
        )
        self.cache_hits = Counter(
            "llm_dispatch_cache_hits",
            "Streams replayed from the cache, by the target that first answered them.",
            (*_TARGET, "match"),
            registry=None,
        )
        self.tokens = Counter(
            "llm_dispatch_tokens",
            "Tokens providers spent (as the ledger charged them), by type.",
            (*_TARGET, "type"),
            registry=None,
        )
        self.cost = Counter(
            "llm_dispatch_cost_usd",
            "What providers charged, in USD, where the price is configured.",
            _TARGET,
            registry=None,
        )
        self.duration = Histogram(
            "llm_dispatch_request_duration_seconds",
            "Seconds from a stream's call to its end.",
            (*_TARGET, "outcome"),
            buckets=n.DURATION_BUCKETS,
            registry=None,
        )
        self.ttft = Histogram(
            "llm_dispatch_time_to_first_token_seconds",
            "Seconds from a stream's call to its first event.",
            _TARGET,
            buckets=n.DURATION_BUCKETS,
            registry=None,
        )
        self.collectors = (
            self.requests,
            self.attempts,
            self.retries,
            self.fallbacks,
            self.interruptions,
            self.cache_hits,
            self.tokens,
            self.cost,
            self.duration,
            self.ttft,
        )
        registered = []
        try:
            for collector in self.collectors:
                self.registry.register(collector)
                registered.append(collector)
        except ValueError:
            for collector in registered:
                self.registry.unregister(collector)
            raise

    def close(self) -> None:
        """Unregister the collectors from the registry."""
        for collector in self.collectors:
            self.registry.unregister(collector)

    def stream_started(self, stream: StreamFacts) -> None:
        return None

    def try_started(self, stream: StreamFacts, tried: TryFacts) -> None:
        return None

    def try_ended(self, stream: StreamFacts, tried: TryFacts) -> None:
        return None

    def stream_ended(self, stream: StreamFacts) -> None:
        for tried in stream.tries:
            target = (tried.provider, tried.model)
            record = tried.record
            self.attempts.labels(*target, record.outcome if record else "unknown").inc()
            spent = tried.spent
            if spent is not None:
                self.tokens.labels(*target, n.TOKEN_INPUT).inc(spent.prompt_tokens)
                self.tokens.labels(*target, n.TOKEN_OUTPUT).inc(spent.completion_tokens)
            if record is not None and record.cost_usd:
                self.cost.labels(*target).inc(record.cost_usd)
        for retry in stream.retries:
            self.retries.labels(retry.provider, retry.model, retry.retry_of).inc()
        for fallback in stream.fallbacks:
            self.fallbacks.labels(
                fallback.from_provider,
                fallback.from_model,
                fallback.to_provider,
                fallback.to_model,
                fallback.kind or "skipped",
            ).inc()
        # Each interruption but the last was continued (the next one interrupts what the
        # continuation streamed); the last was continued when a continuation opened after it.
        continued = stream.continuations
        for index, cut in enumerate(stream.interruptions):
            went_on = index < continued
            self.interruptions.labels(cut.provider, cut.model, cut.kind, _flag(went_on)).inc()
        hit = stream.cache_hit
        if hit is not None:
            match = "exact" if hit.exact else "similar"
            self.cache_hits.labels(hit.provider, hit.model, match).inc()
        provider, model, _ = stream.served_by
        self.requests.labels(provider, model, stream.outcome, stream.error_type or "").inc()
        self.duration.labels(provider, model, stream.outcome).observe(stream.duration)
        if stream.ttft is not None:
            self.ttft.labels(provider, model).observe(stream.ttft)


def _flag(value: bool) -> str:
    return "true" if value else "false"
