"""One process of the shared-flight process tests (test_cache_shared_processes.py).

    python shared_flight_worker.py PROVIDERS_JSON NAMESPACE LEASE PROMPT

Builds a dispatcher on the providers given (the test's fake server), with ``mid_stream:
continue`` over openai then anthropic, and a cache on the Redis at 127.0.0.1:6379 in
NAMESPACE. Prints ``ready``, waits for a line on stdin, asks PROMPT, and prints each chunk
as it arrives (``chunk <json>``), then ``text <json>`` (or ``error <type>: <message>``).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from llm_dispatch import Dispatcher, llm_stream
from llm_dispatch.cache import StreamingCache


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(providers: dict[str, Any], namespace: str, lease: float, prompt: str) -> None:
    dispatcher = Dispatcher(
        {
            "providers": providers,
            "defaults": {"mid_stream": "continue", "retry": {"max_retries": 0}},
        }
    )
    cache = StreamingCache(
        backend="redis://127.0.0.1:6379/0", namespace=namespace, flight_lease=lease
    )

    @llm_stream(dispatcher=dispatcher, providers=["openai", "anthropic"], cache=cache, timeout=60)
    async def answer(prompt: str) -> Any:
        yield "unused"

    await dispatcher.warm_up(["openai", "anthropic"])
    say("ready")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        chunks: list[str] = []
        async for chunk in answer(prompt):
            chunks.append(chunk)
            say(f"chunk {json.dumps(chunk)}")
        say(f"text {json.dumps(''.join(chunks))}")
    except Exception as exc:
        say(f"error {type(exc).__name__}: {exc}")
    finally:
        await cache.aclose()
        await dispatcher.aclose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]))
