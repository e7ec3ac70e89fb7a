"""Many requests, at most ``concurrency`` streams at a time: what :meth:`Client.batch_stream
<llm_dispatch.client.Client.batch_stream>` and :meth:`Client.batch
<llm_dispatch.client.Client.batch>` run on.

Each request is a :class:`TaskRequest` (or a dict of its fields, or a prompt) and is opened
with the client's ``open``; each yields :class:`BatchChunk` items.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .result import DispatchStream
from .task_types import TaskType

__all__ = [
    "BatchChunk",
    "OpenStream",
    "TaskRequest",
    "as_task_request",
    "stream_batch",
    "task_request_arguments",
]

#: Opens one request's stream: :meth:`Client.open <llm_dispatch.client.Client.open>`.
OpenStream = Callable[..., DispatchStream[Any]]


class TaskRequest(BaseModel):
    """One request of a batch: a prompt (or messages) and how to send it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: str | None = None
    messages: list[dict[str, str]] | None = None
    task_type: TaskType = TaskType.TEXT_GENERATION
    model: str | None = None
    provider: str | None = None
    providers: list[str] | None = None
    system: str | None = None
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, gt=0)
    stop: list[str] | None = None
    response_format: dict[str, Any] | None = None
    #: The scope whose budgets this request counts against (see docs/budgets.md).
    budget_scope: str | None = None


@dataclass(frozen=True, slots=True)
class BatchChunk:
    """One item of :meth:`Client.batch_stream`.

    ``index`` is the request's position in the batch. Text items carry ``chunk``; each
    request ends with one item with ``done=True``, its ``result`` and, if it failed, its
    ``error``.
    """

    index: int
    chunk: str = ""
    done: bool = False
    result: DispatchStream[Any] | None = None
    error: BaseException | None = None


def as_task_request(item: TaskRequest | Mapping[str, Any] | str) -> TaskRequest:
    """``item`` as a :class:`TaskRequest` (a string is its prompt)."""
    if isinstance(item, TaskRequest):
        return item
    if isinstance(item, str):
        return TaskRequest(prompt=item)
    return TaskRequest.model_validate(item)


def task_request_arguments(item: TaskRequest) -> tuple[str | None, dict[str, Any]]:
    """``item``'s prompt, and its other fields that are set, as :meth:`Client.open
    <llm_dispatch.client.Client.open>` arguments."""
    fields = item.model_dump(exclude_none=True)
    return fields.pop("prompt", None), fields


async def stream_batch(
    open_stream: OpenStream,
    requests: Iterable[TaskRequest | Mapping[str, Any] | str],
    *,
    concurrency: int,
    kwargs: Mapping[str, Any],
) -> AsyncIterator[BatchChunk]:
    """The items of every request as they arrive. ``concurrency`` workers take the requests
    in order and open each with ``open_stream(prompt, **fields)``, its fields updated with
    ``kwargs``; a request that fails ends with an item carrying its error. Leaving early
    cancels the workers, which closes their streams."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    items = [as_task_request(r) for r in requests]
    queue: asyncio.Queue[BatchChunk | None] = asyncio.Queue(maxsize=max(16, 4 * concurrency))
    pending = iter(range(len(items)))

    async def worker() -> None:
        try:
            for index in pending:
                await _run_one(open_stream, index, items[index], queue, kwargs)
        finally:
            task = asyncio.current_task()
            # Cancelled means the consumer left: nobody reads the queue any more, and a
            # put on a full queue would never return.
            if task is None or not task.cancelling():
                await queue.put(None)

    workers = [asyncio.create_task(worker()) for _ in range(min(concurrency, len(items)))]
    running = len(workers)
    try:
        while running:
            item = await queue.get()
            if item is None:
                running -= 1
            else:
                yield item
    finally:
        for task in workers:
            task.cancel()
        # A worker blocked on a full queue or inside a stream is cancelled and its
        # provider stream closed before this generator finishes. wait() neither raises
        # the workers' CancelledError nor swallows a cancellation of this generator.
        if workers:
            await asyncio.wait(workers)
        for task in workers:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error  # a bug in a worker: _run_one reports request failures


async def _run_one(
    open_stream: OpenStream,
    index: int,
    item: TaskRequest,
    queue: asyncio.Queue[BatchChunk | None],
    kwargs: Mapping[str, Any],
) -> None:
    prompt, fields = task_request_arguments(item)
    fields.update(kwargs)
    stream: DispatchStream[Any] | None = None
    try:
        stream = open_stream(prompt, **fields)
        async for chunk in stream:
            await queue.put(BatchChunk(index, chunk))
    except Exception as exc:
        # One request's failure (a provider error, or a request that cannot be built)
        # is its own result; the batch goes on.
        await queue.put(BatchChunk(index, done=True, result=stream, error=exc))
        return
    await queue.put(BatchChunk(index, done=True, result=stream))
