"""LangChain-style StreamHandler doc (seed 002), "Resource Cleanup": a StreamHandler used as a
context manager that closes its file on exit.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. The seed passes ``on_token=logger`` without defining ``logger``;
here (not in the seed) it is a function writing each token to a file the handler holds as
``file_handle``, and the ``with`` block streams one answer through
``llm_dispatch.Client(callbacks=[handler])`` where the seed says "Use handler". With
``LLM_DISPATCH_FAKE=1`` the answer comes from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/managed_handler.py
"""
# ruff: noqa: E402, I001

import asyncio
import tempfile
from pathlib import Path

from llm_dispatch import Client

log_path = Path(tempfile.mkdtemp()) / "tokens.txt"
log_file = log_path.open("w")


def logger(token: str) -> None:  # not in the seed
    log_file.write(token)


# fmt: off
from llm_dispatch.streaming import StreamHandler

class ManagedStreamHandler(StreamHandler):
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        # Cleanup resources
        if hasattr(self, 'file_handle'):
            self.file_handle.close()
        return False

# Usage
with ManagedStreamHandler(on_token=logger) as handler:
    # Use handler
    handler.file_handle = log_file  # not in the seed
    asyncio.run(Client(callbacks=[handler]).stream_with_usage("Write a log line"))  # not in seed
# Automatic cleanup

# fmt: on
# -- not in the seed -------------------------------------------------------------------------
print(f"File closed on exit: {log_file.closed}")
print(f"It holds: {log_path.read_text()}")
