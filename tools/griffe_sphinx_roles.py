"""A griffe extension for the API reference: Sphinx roles in docstrings as Markdown code.

The package's docstrings name other objects the Sphinx way (``:class:`~llm_dispatch.urls.
SecretUrl```, ``:func:`.load_config```). mkdocstrings renders docstrings as Markdown, where
those roles would show as written; this extension rewrites each one as inline code of the
name (the last part with ``~`` or a leading ``.``, the whole path otherwise). Loaded by
``mkdocs.yml`` (``extensions:`` of the python handler).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|data|mod|exc|obj|const):`(~?)(\.?)([^`]+)`")


def markdown_roles(text: str) -> str:
    """``text`` with every Sphinx role turned into Markdown inline code."""

    def code(match: re.Match[str]) -> str:
        tilde, dot, target = match.groups()
        return f"`{target.rsplit('.', 1)[-1] if tilde or dot else target}`"

    return _ROLE.sub(code, text)


class SphinxRoles(griffe.Extension):
    """Rewrites the Sphinx roles of every docstring as it is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_roles(obj.docstring.value)
