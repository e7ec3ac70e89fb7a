"""One process of the shared-limits process test (test_limits_processes.py).

    python limits_worker.py PROVIDERS_JSON NAMESPACE CALLS [LEASE]

Builds a dispatcher on the providers given (the test's fake server, openai's entry with
its limits), counting them in the Redis at 127.0.0.1:6379 in NAMESPACE over a one-second
window, with concurrency leases of LEASE seconds (default 30). Prints ``ready``, waits for
a line on stdin, makes CALLS calls to openai at once, and prints ``done <json list of the
providers that served them>`` (or ``error <type>: <message>``). With CALLS 0 it makes one
call, prints ``streaming`` at its first chunk, and reads the rest slowly: a process to kill
while it holds a slot.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from llm_dispatch import Dispatcher, llm_stream


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(providers: dict[str, Any], namespace: str, calls: int, lease: float) -> None:
    limits = {
        "store": "redis://127.0.0.1:6379/0",
        "namespace": namespace,
        "window": 1,
        "lease": lease,
    }
    dispatcher = Dispatcher({"providers": providers, "defaults": {"limits": limits}})

    @llm_stream(dispatcher=dispatcher, providers=["openai"], timeout=60)
    async def answer(prompt: str) -> Any:
        yield "unused"

    async def one(i: int) -> str:
        stream = answer(f"call {i}")
        await stream.collect()
        return str(stream.provider)

    await dispatcher.warm_up(["openai"])
    say("ready")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        if calls == 0:
            async for _ in answer("hold a slot"):
                say("streaming")
            return
        served = await asyncio.gather(*(one(i) for i in range(calls)))
        say(f"done {json.dumps(served)}")
    except Exception as exc:
        say(f"error {type(exc).__name__}: {exc}")
    finally:
        await dispatcher.aclose()


if __name__ == "__main__":
    lease = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3]), lease))
