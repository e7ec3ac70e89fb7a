"""LangChain-style StreamHandler doc (seed 002), "Integration Tests": the tokens a handler
received join up to the answer.

The handler code is the seed's, with ``StreamHandler`` from ``llm_dispatch.streaming``.
LangChain is not a dependency, so the ``ChatOpenAI`` lines are the same call through
``llm_dispatch.Client`` (marked below; ``response.content`` is ``response.get_text()``).
The last lines (not in the seed) run the test. With ``LLM_DISPATCH_FAKE=1`` the answer comes
from the built-in fake provider server on 127.0.0.1.

    LLM_DISPATCH_FAKE=1 python examples/seed_stream_handler/integration_test.py
"""

import asyncio

from llm_dispatch import Client
from llm_dispatch.streaming import StreamHandler


# fmt: off
def test_streaming_with_llm():
    """Test streaming with actual LLM"""
    tokens = []
    handler = StreamHandler(on_token=tokens.append)

    llm = Client(callbacks=[handler])  # seed: ChatOpenAI(streaming=True, callbacks=[handler],
    response = asyncio.run(llm.stream_with_usage("Say 'test'", temperature=0))  # temperature=0)
    # (seed: response = llm.invoke("Say 'test'"))

    # Verify tokens were received
    assert len(tokens) > 0
    assert ''.join(tokens) == response.get_text()  # seed: response.content

# fmt: on
# -- not in the seed -------------------------------------------------------------------------
test_streaming_with_llm()
print("test_streaming_with_llm ... ok")
