"""Policies that wrap a provider stream: retry, timeouts, circuit breaker."""
