"""Seed 004, the LLM-Dispatcher streaming guide:
"Chat Application",
as the guide writes it (but for the package name, `llm_dispatch`).

    LLM_DISPATCH_FAKE=1 python examples/seed_dispatcher/chat_application.py
"""

# Added: the names the guide's sample uses without importing them.
import asyncio

from llm_dispatch import *

# The guide's sample:

@llm_stream(task_type=TaskType.TEXT_GENERATION)
async def chat_response(message: str, conversation_history: list = None):
    """Generate chat response with streaming."""
    # This is a placeholder - actual streaming would be handled internally
    chunks = [
        "I understand your question. ",
        "Let me provide you with ",
        "a comprehensive answer. ",
        "Based on the context, ",
        "here's what I think..."
    ]

    for chunk in chunks:
        yield chunk

# Usage in chat application
async def handle_chat_message(message: str):
    print("Assistant: ", end="", flush=True)
    async for chunk in chat_response(message):
        print(chunk, end="", flush=True)
    print()  # New line after response

# Simulate chat
async def main():
    await handle_chat_message("What is artificial intelligence?")
    await handle_chat_message("How does machine learning work?")

asyncio.run(main())
