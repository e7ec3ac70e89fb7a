"""LangChain-style StreamHandler doc (seed 002), "Unit Tests" and "Mock Testing": the seed's
tests of StreamHandler, run against ``llm_dispatch.streaming.StreamHandler``.

The code is the seed's, with ``from streaming import StreamHandler`` spelt
``llm_dispatch.streaming``. The lines after it (not in the seed) run the unittest case and
the mock test and print the results.

    python examples/seed_stream_handler/unit_tests.py
"""
# ruff: noqa: E402, I001

# fmt: off
import unittest
from llm_dispatch.streaming import StreamHandler

class TestStreamHandler(unittest.TestCase):
    def test_token_callback_called(self):
        """Test that callback is invoked for each token"""
        tokens_received = []

        def callback(token):
            tokens_received.append(token)

        handler = StreamHandler(on_token=callback)

        # Simulate token streaming
        handler.on_llm_new_token("Hello")
        handler.on_llm_new_token(" ")
        handler.on_llm_new_token("World")

        self.assertEqual(tokens_received, ["Hello", " ", "World"])

    def test_callback_receives_correct_token(self):
        """Test that exact token is passed to callback"""
        received_token = None

        def callback(token):
            nonlocal received_token
            received_token = token

        handler = StreamHandler(on_token=callback)
        handler.on_llm_new_token("test_token")

        self.assertEqual(received_token, "test_token")

from unittest.mock import Mock, call

def test_handler_with_mock():
    """Test handler behavior with mocked callback"""
    mock_callback = Mock()
    handler = StreamHandler(on_token=mock_callback)

    # Simulate token stream
    test_tokens = ["Hello", " ", "World", "!"]
    for token in test_tokens:
        handler.on_llm_new_token(token)

    # Verify all tokens were passed
    assert mock_callback.call_count == len(test_tokens)
    mock_callback.assert_has_calls([call(t) for t in test_tokens])

# fmt: on
# -- not in the seed: run them ---------------------------------------------------------------
import sys

suite = unittest.defaultTestLoader.loadTestsFromTestCase(TestStreamHandler)
outcome = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
test_handler_with_mock()
print("test_handler_with_mock ... ok")
sys.exit(0 if outcome.wasSuccessful() else 1)
