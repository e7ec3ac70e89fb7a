"""Stream one decorated function through OpenAI, Anthropic and Google Gemini.

With no API keys set, the providers are served by the built-in fake provider server on
127.0.0.1. It speaks each provider's real streaming wire format, so the official SDKs run
unmodified over real HTTP. A provider whose key is set (OPENAI_API_KEY, ANTHROPIC_API_KEY,
GEMINI_API_KEY or GOOGLE_API_KEY) is the real one. Same as ``llm-dispatch demo``.

    python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import sys

from llm_dispatch.demo import run_demo

if __name__ == "__main__":
    sys.exit(asyncio.run(run_demo()))
