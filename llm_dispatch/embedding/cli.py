"""``python -m llm_dispatch.embedding.cli``: ``verify`` and ``strip`` without the main CLI.

The commands are defined in :mod:`llm_dispatch.cli.embedding`; this module runs them.
"""

from __future__ import annotations

from ..cli.embedding import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
