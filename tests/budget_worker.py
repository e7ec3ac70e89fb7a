"""One process of the shared-budget process test (test_budgets_processes.py).

    python budget_worker.py CONFIG_JSON CALLS

Builds a dispatcher from CONFIG_JSON (the test's fake server, a budget on the Redis at
127.0.0.1:6379), prints ``ready``, waits for a line on stdin, then makes CALLS calls at
once under the scope ``shared`` and prints one line per call: ``ok <cost_usd>``,
``refused <budget>`` or ``error <type>: <message>``; then ``done shared`` (or ``done
local`` when a round trip to the store failed and this process counted on its own).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from llm_dispatch import BudgetExceeded, Dispatcher, llm_stream


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def main(config: dict[str, Any], calls: int) -> None:
    dispatcher = Dispatcher(config)

    @llm_stream(dispatcher=dispatcher, max_tokens=10, budget_scope="shared", timeout=60)
    async def answer(prompt: str) -> Any:
        yield "unused"

    async def one() -> str:
        stream = answer("hi")
        try:
            await stream.collect()
        except BudgetExceeded as exc:
            return f"refused {exc.budget}"
        except Exception as exc:
            return f"error {type(exc).__name__}: {exc}"
        return f"ok {stream.cost_usd!r}"

    await dispatcher.warm_up(["openai"])
    say("ready")
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        for line in await asyncio.gather(*(one() for _ in range(calls))):
            say(line)
        say("done local" if dispatcher.budgets.store_failures else "done shared")
    finally:
        await dispatcher.aclose()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1]), int(sys.argv[2])))
