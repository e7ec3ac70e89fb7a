"""The URLs a configuration holds: secret ones, and checks of provider endpoints.

- :class:`SecretUrl` holds a URL that may carry a password (a Redis URL): its ``str``,
  ``repr`` and JSON serialisation show ``user:***@`` instead, and
  :meth:`SecretUrl.get_secret_value` gives the real URL to the client that connects.
- :func:`base_url_problem` says what is wrong with a provider's ``base_url``: the SDKs would
  otherwise accept a URL without a host, with credentials in it, with a line break in it, or
  aimed at a cloud metadata service, and the request would fail later as a connection
  error, which the dispatcher retries. The checks read the URL as written; host names are
  not resolved, so a name that resolves to a link-local address is not caught.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

__all__ = [
    "METADATA_ADDRESSES",
    "METADATA_HOSTS",
    "SecretUrl",
    "base_url_problem",
    "mask_url_password",
    "parse_ipv4",
    "url_scheme",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Host names of cloud metadata services (compared without a trailing dot, lower case).
METADATA_HOSTS = frozenset(
    {
        "metadata.google.internal",  # Google Cloud
        "metadata",  # Google Cloud's short name
        "instance-data",  # AWS EC2
    }
)
#: Addresses of cloud metadata services outside the link-local ranges.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("fd00:ec2::254"),  # AWS instance metadata over IPv6
        ipaddress.ip_address("fd00:ec2::23"),  # AWS EKS Pod Identity agent over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)

# Unicode categories refused anywhere in a URL: controls (CR, LF, TAB, NUL, DEL, C1 ...),
# invisible format characters (zero-width space, bidi marks ...), surrogates, private use
# and unassigned code points.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Dots IDNA treats as label separators, so that HTTP clients turn them into ".".
_IDNA_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
# NAT64's well-known prefix: its last 32 bits are an IPv4 address the gateway connects to.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

_ALLOW_HINT = "set allow_link_local: true on this provider if the server really is there"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}")
# A "password" query parameter, which redis-py reads like the password of user:password@.
_PASSWORD_PARAMETER = re.compile(r"([?&;]password=)[^&#;]*", re.IGNORECASE)


# -- secret URLs ---------------------------------------------------------------------------


def mask_url_password(url: str) -> str:
    """``url`` with ``***`` in place of its password and of a ``password`` query parameter.

    The password is everything between the first ``:`` after ``scheme://`` and the last
    ``@`` before the query, so that a password with an unescaped ``/`` or ``@`` is masked
    whole; the user name stays. A URL without a password comes back unchanged.
    """
    scheme, separator, rest = url.partition("://")
    if separator:
        query = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
        at = rest.rfind("@", 0, query)
        if at >= 0:
            user, colon, _password = rest[:at].partition(":")
            if colon:
                rest = f"{user}:***{rest[at:]}"
        url = scheme + separator + rest
    return _PASSWORD_PARAMETER.sub(r"\1***", url)


def url_scheme(url: str) -> str:
    """The scheme of ``url`` (before ``://``) in lower case, or ``""`` when it has none.

    Only a well-formed scheme counts (a letter, then letters, digits, ``+``, ``-``, ``.``),
    so the result is safe to repeat in an error message.
    """
    scheme, separator, _rest = url.partition("://")
    return scheme.lower() if separator and _SCHEME.fullmatch(scheme) else ""


class SecretUrl:
    """A URL whose password stays out of ``str``, ``repr``, logs and JSON dumps.

    As a pydantic field type it accepts a string (or a ``SecretUrl``). ``model_dump()``
    keeps the ``SecretUrl`` itself, so a dump validates back to the same value;
    ``model_dump(mode="json")`` and ``model_dump_json()`` write the masked URL.
    """

    __slots__ = ("_url",)

    def __init__(self, url: str) -> None:
        self._url = url

    def get_secret_value(self) -> str:
        """The URL as written, password included: for the client that connects with it."""
        return self._url

    @property
    def masked(self) -> str:
        """The URL with ``***`` for its password (see :func:`mask_url_password`)."""
        return mask_url_password(self._url)

    @property
    def scheme(self) -> str:
        """The scheme in lower case (``redis``, ``rediss``, ``unix`` ...), or ``""``."""
        return url_scheme(self._url)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"SecretUrl({self.masked!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretUrl) and other._url == self._url

    def __hash__(self) -> int:
        return hash((SecretUrl, self._url))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from_text = core_schema.no_info_after_validator_function(cls, core_schema.str_schema())
        validate = core_schema.no_info_before_validator_function(_unwrap, from_text)
        return core_schema.json_or_python_schema(
            json_schema=validate,
            python_schema=validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialize, info_arg=True
            ),
        )


def _unwrap(value: Any) -> Any:
    return value.get_secret_value() if isinstance(value, SecretUrl) else value


def _serialize(value: SecretUrl, info: core_schema.SerializationInfo) -> SecretUrl | str:
    return value.masked if info.mode_is_json() else value


# -- provider endpoints --------------------------------------------------------------------


def base_url_problem(url: str, *, allow_link_local: bool = False) -> str | None:
    """Why ``url`` cannot be a provider's ``base_url``, or None when it can.

    Required: ``http://`` or ``https://``, a host, a valid port if any, no whitespace or
    control characters, and no ``user:password@``. Refused unless ``allow_link_local``:
    link-local addresses (169.254.0.0/16, fe80::/10, in any notation HTTP clients accept,
    such as ``2852039166`` or ``0xa9fea9fe``) and the cloud metadata endpoints of
    :data:`METADATA_HOSTS` and :data:`METADATA_ADDRESSES`. Loopback and private addresses
    are allowed. The message never repeats the URL, only its host (and only once the URL is
    known to carry no credentials).
    """
    for position, char in enumerate(url, 1):
        if char.isspace() or unicodedata.category(char) in _REFUSED_CATEGORIES:
            return (
                f"base_url contains whitespace or a control character (character {position}): "
                "write the URL on one line, with spaces as %20"
            )
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" of an IPv6 address
        return "base_url is not a valid URL (check the brackets around an IPv6 address)"
    if parts.scheme.lower() not in ("http", "https"):
        return "base_url must start with http:// or https://"
    if "@" in parts.netloc:
        return (
            "base_url must not contain credentials (user:password@): give the key in "
            "api_key, and a proxy's credentials in extra_headers"
        )
    if not parts.hostname:
        return "base_url has no host (write http(s)://host[:port]/path)"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError:
        return "base_url has an invalid port (a number from 0 to 65535 after the host)"
    host = parts.hostname
    address: IPAddress | None
    if "[" in parts.netloc:
        name = host
        try:
            address = ipaddress.IPv6Address(unquote(host))
        except ValueError:
            return "base_url has an invalid IPv6 address between [ and ]"
    else:
        # Read the name as HTTP clients will send it: percent-decoded, IDNA-normalised.
        name = unicodedata.normalize("NFKC", unquote(host).translate(_IDNA_DOTS))
        name = name.lower().rstrip(".")
        if not name or not all(c.isalnum() or c in "-_." for c in name):
            return "base_url has an invalid host name (letters, digits, '-', '_' and '.' only)"
        address = parse_ipv4(name)
    if allow_link_local:
        return None
    return _reserved_host_problem(host, name, address)


def _reserved_host_problem(host: str, name: str, address: IPAddress | None) -> str | None:
    if address is None:
        if name in METADATA_HOSTS:
            return f"base_url host {host!r} is a cloud metadata endpoint: {_ALLOW_HINT}"
        return None
    candidates: list[IPAddress] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)
        if address in _NAT64:
            candidates.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    for candidate in candidates:
        written = "" if str(candidate) == host else f" ({candidate})"
        if candidate in METADATA_ADDRESSES:
            return f"base_url host {host!r}{written} is a cloud metadata endpoint: {_ALLOW_HINT}"
        if candidate.is_link_local:
            return (
                f"base_url host {host!r}{written} is a link-local address (169.254.0.0/16 or "
                f"fe80::/10, where cloud metadata services answer): {_ALLOW_HINT}"
            )
    return None


def parse_ipv4(text: str) -> ipaddress.IPv4Address | None:
    """``text`` read as an IPv4 address the way ``inet_aton`` reads it, or None.

    One to four parts separated by dots, each decimal, octal (leading ``0``) or hexadecimal
    (leading ``0x``); the last part fills the remaining bytes. So ``169.254.169.254``,
    ``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376`` and ``169.254.43518`` are one
    address, and the resolver of an HTTP client connects to it for any of them.
    """
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        if part[:2].lower() == "0x":
            digits, base = part[2:], 16
        elif len(part) > 1 and part.startswith("0"):
            digits, base = part[1:], 8
        else:
            digits, base = part, 10
        if not digits or not digits.isascii() or not digits.isalnum():
            return None
        try:
            values.append(int(digits, base))
        except ValueError:
            return None
    *leading, last = values
    if any(v > 0xFF for v in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    number = last
    for i, value in enumerate(leading):
        number |= value << (8 * (3 - i))
    return ipaddress.IPv4Address(number)
