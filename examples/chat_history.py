"""A chat whose every answer sees the conversation so far.

    LLM_DISPATCH_FAKE=1 python examples/chat_history.py

``conversation_history`` (or ``history``) takes role/content dicts; they go before the new
message, in order, and a ``system`` turn among them becomes the system prompt.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from llm_dispatch import TaskType, llm_stream


@llm_stream(task_type=TaskType.TEXT_GENERATION)
async def chat_response(message: str, conversation_history: list[Any] | None = None) -> Any:
    yield "offline stand-in"


async def main() -> int:
    history: list[dict[str, str]] = [{"role": "system", "content": "Answer in one sentence."}]
    for message in ("What is artificial intelligence?", "How does machine learning work?"):
        print(f"User: {message}\nAssistant: ", end="", flush=True)
        stream = chat_response(message, history)
        async for chunk in stream:
            print(chunk, end="", flush=True)
        print()
        history += [
            {"role": "user", "content": message},
            {"role": "assistant", "content": stream.get_text()},
        ]
    print(f"[{len(history) - 1} turns kept]")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
