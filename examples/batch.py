"""Streaming many requests at once with a concurrency limit.

python examples/batch.py
"""

from __future__ import annotations

import asyncio
import sys

from llm_dispatch import Client, TaskRequest, TaskType
from llm_dispatch.demo import demo_dispatcher


async def main() -> int:
    async with demo_dispatcher() as dispatcher:
        client = Client(dispatcher=dispatcher)
        requests: list[TaskRequest | str] = [
            TaskRequest(prompt="Write a story", task_type=TaskType.TEXT_GENERATION),
            TaskRequest(prompt="Explain AI", provider="anthropic"),
            TaskRequest(prompt="Code example", task_type=TaskType.CODE_GENERATION),
            "Summarise the plot of Hamlet",
        ]
        texts = [""] * len(requests)
        async for item in client.batch_stream(requests, concurrency=2):
            if not item.done:
                texts[item.index] += item.chunk
            elif item.error is not None:
                print(f"#{item.index} failed: {item.error}")
            else:
                assert item.result is not None
                usage = item.result.usage
                print(
                    f"#{item.index} {item.result.provider}: {texts[item.index][:50]!r}... "
                    f"({usage.total_tokens if usage else '?'} tokens)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
