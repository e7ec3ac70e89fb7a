"""OpenTelemetry spans and metrics, and Prometheus metrics, for every stream; off until
:func:`instrument` switches them on (see ``docs/observability.md``).

    from llm_dispatch.observability import instrument

    instrument()  # spans and GenAI metrics through the global OpenTelemetry providers

Importing this package imports neither OpenTelemetry nor prometheus_client; each is
imported by :func:`instrument` when asked for (the ``otel`` and ``prometheus`` extras).
"""

from __future__ import annotations

from .switch import Instrumentation, instrument, instrumentation, uninstrument

__all__ = ["Instrumentation", "instrument", "instrumentation", "uninstrument"]
