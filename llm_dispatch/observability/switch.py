"""Switching observability on and off for the process: :func:`instrument`, :func:`uninstrument`.

Nothing is observed until :func:`instrument` is called. It builds the sinks asked for
(spans, OpenTelemetry metrics, Prometheus), each importing its package then, and installs
the observability stage and its attempt observers for every stream that starts afterwards,
whichever dispatcher runs it (:mod:`llm_dispatch.stream_hooks`). :func:`uninstrument`
removes them again; a stream already running finishes under what it started with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .. import stream_hooks
from .watch import ObservabilityStage, Sink

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider
    from prometheus_client import CollectorRegistry

    from .prometheus import PrometheusSink

__all__ = ["Instrumentation", "instrument", "instrumentation", "uninstrument"]

_OTEL_MISSING = (
    "{what} need the OpenTelemetry API, which is not installed: "
    "pip install 'llm-dispatch[otel]' (or pass {flag}=False)"
)
_PROMETHEUS_MISSING = (
    "Prometheus metrics need prometheus_client, which is not installed: "
    "pip install 'llm-dispatch[prometheus]'"
)


class Instrumentation:
    """What :func:`instrument` switched on; :meth:`uninstrument` (or leaving a ``with``
    block) switches it off."""

    def __init__(
        self,
        stage: ObservabilityStage,
        *,
        traces: bool,
        metrics: bool,
        prometheus: PrometheusSink | None,
    ) -> None:
        self.stage = stage
        self.traces = traces
        self.metrics = metrics
        self._prometheus = prometheus

    @property
    def prometheus_registry(self) -> CollectorRegistry | None:
        """The registry the Prometheus metrics are registered on (None: not on)."""
        return self._prometheus.registry if self._prometheus is not None else None

    @property
    def active(self) -> bool:
        """Whether streams that start now are observed by this instrumentation."""
        return _current is self

    def uninstrument(self) -> None:
        """Stop observing the streams that start from now on and unregister the Prometheus
        metrics (nothing when this instrumentation is no longer on)."""
        global _current
        if _current is not self:
            return
        _current = None
        stream_hooks.install(stream_hooks.NO_HOOKS)
        if self._prometheus is not None:
            self._prometheus.close()

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.uninstrument()

    def __repr__(self) -> str:
        on = [name for name, value in self._switches().items() if value]
        return f"Instrumentation({', '.join(on)}{'' if self.active else ', off'})"

    def _switches(self) -> dict[str, Any]:
        return {
            "traces": self.traces,
            "metrics": self.metrics,
            "prometheus": self._prometheus is not None,
        }


_current: Instrumentation | None = None


def instrument(
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    prometheus_registry: CollectorRegistry | None = None,
    traces: bool = True,
    metrics: bool = True,
    prometheus: bool | None = None,
) -> Instrumentation:
    """Observe every stream that starts from now on, in this process.

    ``traces``: a span per stream and one per try, from ``tracer_provider`` (default: the
    global tracer provider). ``metrics``: the GenAI metrics, from ``meter_provider``
    (default: the global meter provider). Both need the ``otel`` extra (the OpenTelemetry
    API; the application brings the SDK and its exporters). ``prometheus``: the library's
    Prometheus metrics, registered on ``prometheus_registry`` (default: prometheus_client's
    global ``REGISTRY``); on when a registry is given, else off unless ``True``; needs the
    ``prometheus`` extra.

    An instrumentation already on is switched off first. Raises ``ValueError`` for a
    provider or registry given to a part that is switched off, or when every part is off,
    and ``ImportError`` (saying which extra to install) when a part's package is missing.
    """
    if prometheus is None:
        prometheus = prometheus_registry is not None
    _check_given("tracer_provider", tracer_provider, "traces", traces)
    _check_given("meter_provider", meter_provider, "metrics", metrics)
    _check_given("prometheus_registry", prometheus_registry, "prometheus", prometheus)
    if not (traces or metrics or prometheus):
        raise ValueError("instrument(): traces, metrics and prometheus are all off")
    sinks: list[Sink] = []
    if traces:
        with _needs("opentelemetry", _OTEL_MISSING.format(what="traces", flag="traces")):
            from .otel_spans import SpanSink
        sinks.append(SpanSink(tracer_provider))
    if metrics:
        with _needs("opentelemetry", _OTEL_MISSING.format(what="metrics", flag="metrics")):
            from .otel_metrics import MetricSink
        sinks.append(MetricSink(meter_provider))
    if prometheus:
        with _needs("prometheus_client", _PROMETHEUS_MISSING):
            from .prometheus import PrometheusSink
    # Off first: a registry given again gets its collectors anew.
    uninstrument()
    exporter: PrometheusSink | None = None
    if prometheus:
        exporter = PrometheusSink(prometheus_registry)
        sinks.append(exporter)
    stage = ObservabilityStage(tuple(sinks))
    global _current
    _current = Instrumentation(stage, traces=traces, metrics=metrics, prometheus=exporter)
    stream_hooks.install(stream_hooks.StreamHooks((stage,), (stage.observer_for,)))
    return _current


def uninstrument() -> None:
    """Switch off what :func:`instrument` switched on (nothing when nothing is on)."""
    if _current is not None:
        _current.uninstrument()


def instrumentation() -> Instrumentation | None:
    """The instrumentation on now, or None."""
    return _current


@contextmanager
def _needs(package: str, missing: str) -> Iterator[None]:
    """Turn the absence of ``package`` while importing into an ImportError saying
    ``missing`` (any other import error goes on as it is)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != package:
            raise
        raise ImportError(missing) from exc


def _check_given(name: str, value: object, switch: str, on: bool) -> None:
    if value is not None and not on:
        raise ValueError(f"instrument(): {name} is given but {switch}=False")
