"""LangChain-style StreamHandler doc (seed 002), "Queue-Based Streaming": the handler puts
each token on a queue; the consumer reads them from another thread's stream.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. Where it says "Start LLM in thread..." the marked lines run one
``llm_dispatch.Client(callbacks=[handler])`` call in a thread and then put the ``None`` the
seed's ``get_stream`` waits for. With ``LLM_DISPATCH_FAKE=1`` the answer comes from the
built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/queue_handler.py
"""
# ruff: noqa: E402, I001

import asyncio

from llm_dispatch import Client


def produce(handler):  # not in the seed: the LLM call, then the end-of-stream sentinel
    asyncio.run(Client(callbacks=[handler]).stream_with_usage("Name three queues"))
    handler.token_queue.put(None)


# fmt: off
import queue
import threading
from llm_dispatch.streaming import StreamHandler

class QueueStreamHandler(StreamHandler):
    def __init__(self):
        self.token_queue = queue.Queue()
        super().__init__(on_token=self._enqueue_token)

    def _enqueue_token(self, token: str):
        self.token_queue.put(token)

    def get_stream(self):
        """Generator that yields from queue"""
        while True:
            try:
                token = self.token_queue.get(timeout=0.1)
                if token is None:  # Sentinel value
                    break
                yield token
            except queue.Empty:
                continue

# Usage
handler = QueueStreamHandler()
# Start LLM in thread...
producer = threading.Thread(target=produce, args=(handler,))  # not in the seed
producer.start()  # not in the seed
for token in handler.get_stream():
    print(token, end='')

# fmt: on
# -- not in the seed -------------------------------------------------------------------------
producer.join()
print(f"\n[consumed on {threading.current_thread().name}, produced on another thread]")
