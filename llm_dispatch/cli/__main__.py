"""``python -m llm_dispatch.cli``: the ``llm-dispatch`` command."""

import sys

from .parser import main

if __name__ == "__main__":
    sys.exit(main())
