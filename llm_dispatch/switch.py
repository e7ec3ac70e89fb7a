"""The switch: :class:`TaskRequest` values routed and streamed through one dispatcher.

    switch = get_global_switch()
    for provider, requests in switch.group_requests_by_provider(requests).items():
        for request in requests:
            async for chunk in switch.stream_request(request):
                print(chunk, end="")

:func:`get_global_switch` works on the process-wide dispatcher (the one decorated functions
use, see :mod:`llm_dispatch.global_dispatcher`); ``Switch(dispatcher)`` on another one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .batch import TaskRequest, as_task_request, task_request_arguments
from .client import Client
from .dispatcher import Dispatcher
from .global_dispatcher import get_dispatcher
from .result import DispatchStream

__all__ = ["Switch", "get_global_switch"]


class Switch:
    """Routes and streams :class:`TaskRequest` values through a dispatcher (default: the
    process-wide one, looked up on each call, so :func:`~llm_dispatch.configure` applies).

    A request may also be given as a dict of :class:`TaskRequest` fields or as a prompt.
    """

    def __init__(self, dispatcher: Dispatcher | None = None) -> None:
        self._client = Client(dispatcher=dispatcher)

    @property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher the requests go through."""
        return self._client.dispatcher or get_dispatcher()

    def open_request(
        self, request: TaskRequest | Mapping[str, Any] | str, **options: Any
    ) -> DispatchStream[Any]:
        """The stream for ``request``, not started yet; ``options`` are further
        :meth:`Client.open <llm_dispatch.client.Client.open>` arguments (``callbacks``,
        ``metadata=True`` ...), which a field of the request may not repeat."""
        prompt, fields = task_request_arguments(as_task_request(request))
        repeated = sorted(set(fields) & set(options))
        if repeated:
            raise TypeError(f"stream_request: {', '.join(repeated)} given twice")
        return self._client.open(prompt, **fields, **options)

    def stream_request(
        self, request: TaskRequest | Mapping[str, Any] | str, **options: Any
    ) -> DispatchStream[str]:
        """Stream ``request``'s answer as ``str`` chunks (``async for chunk in ...``);
        the returned stream holds the result once iterated. ``options`` as for
        :meth:`open_request`."""
        if options.get("metadata"):
            raise TypeError("stream_request yields str chunks; use open_request(metadata=True)")
        return self.open_request(request, **options)

    def group_requests_by_provider(
        self, requests: Iterable[TaskRequest | Mapping[str, Any] | str]
    ) -> dict[str, list[TaskRequest]]:
        """The requests by the provider routing would send each to first if it were sent
        now (its route, ``provider``/``model`` fields, what the model takes, which providers
        are enabled; see :meth:`DispatchStream.route_preview`), in order of first
        appearance, each list in the requests' order. Nothing is sent. Raises
        :class:`~llm_dispatch.NoProviderAvailable` (noting the request's position) when
        no provider can take a request."""
        groups: dict[str, list[TaskRequest]] = {}
        for index, item in enumerate(requests):
            request = as_task_request(item)
            try:
                plan = self.open_request(request).route_preview()
            except Exception as exc:
                exc.add_note(f"in request #{index} of group_requests_by_provider")
                raise
            groups.setdefault(plan.targets[0].provider, []).append(request)
        return groups

    def __repr__(self) -> str:
        return f"Switch(dispatcher={self._client.dispatcher!r})"


def get_global_switch() -> Switch:
    """A :class:`Switch` on the process-wide dispatcher."""
    return Switch()
