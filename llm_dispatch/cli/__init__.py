"""The ``llm-dispatch`` command (also ``python -m llm_dispatch.cli``).

llm-dispatch verify [FILE|-]     check the signed provenance in a text (exit 0 only if valid)
llm-dispatch strip [FILE|-]      remove the invisible payload
llm-dispatch fake-server         run the fake provider server on 127.0.0.1
llm-dispatch stream "PROMPT"     stream one prompt to stdout, a summary line on stderr
                                 (--json: JSON mode; --progress: a bar on stderr)
llm-dispatch config check [FILE] validate the configuration, print each task type's routes
llm-dispatch demo                stream through the three providers (fake ones without keys)
"""

from .parser import build_parser, main

__all__ = ["build_parser", "main"]
