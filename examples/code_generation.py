"""Code generation whose other arguments reach the model.

    LLM_DISPATCH_FAKE=1 python examples/code_generation.py

``description`` is the prompt (the first ``str`` parameter, since none is called
``prompt``); ``language`` is written after it as a labelled line (``language: python``).
The second function writes both into one sentence with ``prompt_template``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from llm_dispatch import TaskType, llm_stream


@llm_stream(task_type=TaskType.CODE_GENERATION)
async def stream_code_generation(description: str, language: str = "python") -> Any:
    yield "offline stand-in"


@llm_stream(
    task_type=TaskType.CODE_GENERATION,
    prompt_template="Write {language} code that does this: {description}",
)
async def templated_code_generation(description: str, language: str = "python") -> Any:
    yield "offline stand-in"


async def main() -> int:
    print("Generated code:")
    async for chunk in stream_code_generation("Create a function to sort a list", "python"):
        print(chunk, end="", flush=True)
    print("\n\nWith a template:")
    async for chunk in templated_code_generation("Reverse a string", language="rust"):
        print(chunk, end="", flush=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
