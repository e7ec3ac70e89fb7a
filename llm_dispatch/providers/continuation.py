"""How a provider is asked to continue a partial answer (``mid_stream: continue``).

A continuation request is the original request with the partial answer as its last,
assistant, message. Each provider sends it the way its API follows (``continuation`` in the
provider's configuration, default per kind):

- ``prefill`` (Anthropic's default): the trailing assistant message as it is; the model
  writes on from its last character. OpenAI-compatible servers that read a trailing
  assistant message as a prefix can use it too.
- ``continue_final_message`` (OpenAI-compatible servers such as vLLM): the same message plus
  ``continue_final_message: true`` and ``add_generation_prompt: false`` in the request
  body, which make the server's chat template leave that message open.
- ``instruction`` (the default of OpenAI and Gemini, which answer a trailing assistant
  message afresh): after the partial answer, a user message asks the model to go on from
  exactly where it stopped (``continuation_instruction``, default
  :data:`CONTINUE_INSTRUCTION`). The system prompt stays where the provider carries it.

Whatever the mechanism, the dispatcher also drops a continuation's opening where it repeats
the delivered text (:mod:`llm_dispatch.policies.continuation`).
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "CONTINUATION_MODES",
    "CONTINUE_INSTRUCTION",
    "DEFAULT_CONTINUATION",
    "ContinuationMode",
]

ContinuationMode = Literal["prefill", "continue_final_message", "instruction"]

#: The modes each provider kind can send.
CONTINUATION_MODES: dict[str, tuple[ContinuationMode, ...]] = {
    "openai": ("instruction", "continue_final_message", "prefill"),
    "anthropic": ("prefill", "instruction"),
    "google": ("instruction",),
}
#: The mode of a provider whose configuration names none.
DEFAULT_CONTINUATION: dict[str, ContinuationMode] = {
    "openai": "instruction",
    "anthropic": "prefill",
    "google": "instruction",
}

#: What ``instruction`` continuations send after the partial answer.
CONTINUE_INSTRUCTION = (
    "Your previous answer was cut off. Continue it from exactly where it stops, "
    "mid-word or mid-sentence if that is where it stops. Do not repeat anything already "
    "written, do not start over, and add no preamble or comment: write only the rest."
)
