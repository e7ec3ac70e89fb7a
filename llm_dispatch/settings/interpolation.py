"""``${VAR}`` / ``${VAR:-default}`` substitution in configuration strings.

Rules (shell-like, deliberately small):

- ``${NAME}`` is the value of the environment variable ``NAME``; unset is an error
  (:class:`~llm_dispatch.errors.UnresolvedVariable`), so a typo in a variable name does not
  silently become "".
- ``${NAME:-default}`` is the value of ``NAME`` when it is set and non-empty, else
  ``default`` (which may be empty, and may not contain ``}``).
- ``$${`` is a literal ``${``.
- Anything else that starts with ``${`` is an
  :class:`~llm_dispatch.errors.InterpolationSyntaxError`.

The result is always a string; pydantic converts ``"3"`` to ``3`` where the field wants an int.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import InterpolationSyntaxError, UnresolvedVariable

__all__ = ["has_placeholders", "interpolate"]

# One alternation so that a single left-to-right scan handles escapes, references and
# malformed openers in the order they appear.
_TOKEN = re.compile(
    r"(?P<escape>\$\$\{)"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|(?P<bad>\$\{)"
)


def has_placeholders(text: str) -> bool:
    """Whether ``text`` contains anything :func:`interpolate` would act on."""
    return "${" in text


def interpolate(text: str, environ: Mapping[str, str]) -> str:
    """Return ``text`` with every ``${...}`` reference replaced from ``environ``."""
    if "${" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        if match.group("escape"):
            return "${"
        if match.group("bad"):
            # The position, not the text: the value may be a key, a password or a header.
            raise InterpolationSyntaxError(
                f"malformed reference at character {match.start() + 1}: write ${{NAME}} or "
                "${NAME:-default} (NAME: letters, digits, _), or $${ for a literal ${"
            )
        name = match.group("name")
        default = match.group("default")
        value = environ.get(name)
        if default is not None:
            return value if value else default
        if value is None:
            raise UnresolvedVariable(name)
        return value

    return _TOKEN.sub(replace, text)
