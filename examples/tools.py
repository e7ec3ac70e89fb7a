"""Tools: the model calls Python functions, the loop runs them and asks again.

    LLM_DISPATCH_FAKE=1 python examples/tools.py

``run_tools`` streams every step: the model's first answer (here, a call to
``get_weather``), then its answer once it has read the result. With ``--metadata`` each
chunk dict shows its ``kind`` (text, tool_call ...). Offline, the fake server calls the
first tool it is offered, then quotes what the tool returned.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from llm_dispatch import TaskType, llm_stream, llm_stream_with_metadata, run_tools


def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """The current weather in a city.

    Args:
        city: The city's name.
        unit: celsius or fahrenheit.
    """
    return {"city": city, "sky": "sunny", "temperature": 21, "unit": unit}


@llm_stream(task_type=TaskType.FUNCTION_CALLING, tools=[get_weather])
async def ask(prompt: str) -> Any:
    yield "offline stand-in"


@llm_stream_with_metadata(task_type=TaskType.FUNCTION_CALLING, tools=[get_weather])
async def ask_with_metadata(prompt: str) -> Any:
    yield "offline stand-in"


async def main(metadata: bool) -> int:
    question = "What is the weather in Paris?"
    if metadata:
        async for item in run_tools(ask_with_metadata(question)):
            call = item["tool_call"]
            if item["kind"] == "tool_call" and call["phase"] == "done":
                print(f"\n[tool_call {call['name']}({call['arguments']})]")
            elif item["kind"] == "text" and item["chunk"]:
                print(item["chunk"], end="", flush=True)
        print()
        return 0
    loop = run_tools(ask(question), max_steps=4)
    step = 0
    async for chunk in loop:
        if len(loop.steps) != step:  # a new answer began: start it on a line of its own
            print("\n" if step else "", end="")
            step = len(loop.steps)
        print(chunk, end="", flush=True)
    for number, step in enumerate(loop.steps, start=1):
        calls = ", ".join(f"{c.name}({c.arguments})" for c in step.tool_calls) or "none"
        print(f"\n[step {number}: {step.provider}/{step.model}, tool calls: {calls}]", end="")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main("--metadata" in sys.argv[1:])))
