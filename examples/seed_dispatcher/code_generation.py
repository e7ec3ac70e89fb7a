"""Seed 004, the LLM-Dispatcher streaming guide:
"Code Generation with Streaming",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/code_generation.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

@llm_stream(task_type=TaskType.CODE_GENERATION)
async def stream_code_generation(description: str, language: str = "python"):
    """Generate code with streaming."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = [
        f"# {description}\n",
        f"def {description.lower().replace(' ', '_')}():\n",
        "    \"\"\"Generated function.\"\"\"\n",
        "    # Implementation here\n",
        "    pass\n"
    ]

    for chunk in chunks:
        yield chunk

# Usage
async def main():
    print("Generated code:")
    async for chunk in stream_code_generation("Create a function to sort a list", "python"):
        print(chunk, end="", flush=True)

asyncio.run(main())
