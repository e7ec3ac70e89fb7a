"""The policies a stream runs under, each in its own module.

Opening an attempt (sending its request and waiting for the first event) is an ``Open``
(:mod:`llm_dispatch.attempt`); the policies that guard it wrap it, innermost first:

- :mod:`.first_token` — one try: the provider's set-up, then the request under the
  ``first_token`` deadline;
- :mod:`.retry` — tenacity retries of retryable failures on the same target;
- :mod:`.circuit` — the target's circuit breaker (its stores: :mod:`.circuit_store`,
  :mod:`.circuit_redis`).

Around the attempts: :mod:`.fallback` hands out the plan's targets in turn, and
:mod:`.mid_stream` decides what a failure after text means (raise, or continue on the next
target, cut where it repeats: :mod:`.continuation`). :mod:`.timeouts` keeps a stream's
deadlines; :mod:`.overrides` lays per-call policy arguments over the configuration.
"""
