"""What the cloud kinds' providers share: the check of the fields they need, and the kind of
a credential chain's failure.

:func:`check_cloud_fields` raises a ``bad_request`` error, before anything is sent, for a
provider built (in code) without a field its kind needs; the configuration reports the same
with the file and line.

google-auth (Application Default Credentials, token refresh) and botocore (the AWS
credential chain, SigV4 signing) raise their own exceptions before a request is sent. A
credential that cannot be found or refreshed is ``auth`` (no retry; fallback moves on); a
token endpoint that cannot be reached is ``connection``. Neither library is imported here:
an exception of theirs can only come from a module already loaded.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..errors import ErrorKind
from .classify import make_error
from .kinds import CLOUD_FIELDS, missing_fields

if TYPE_CHECKING:
    from .base import Provider

__all__ = ["check_cloud_fields", "credential_error_kind"]

_BOTOCORE_AUTH = (
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "NoAuthTokenError",
    "TokenRetrievalError",
    "UnauthorizedSSOTokenError",
)


def credential_error_kind(exc: BaseException) -> ErrorKind | None:
    """The kind of a credential chain's failure, or None when ``exc`` is none."""
    google_auth = sys.modules.get("google.auth.exceptions")
    if google_auth is not None:
        if isinstance(exc, google_auth.TransportError):
            return ErrorKind.CONNECTION
        if isinstance(exc, google_auth.GoogleAuthError):
            return ErrorKind.AUTH
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is not None:
        classes = tuple(
            getattr(botocore, name) for name in _BOTOCORE_AUTH if hasattr(botocore, name)
        )
        if isinstance(exc, classes):
            return ErrorKind.AUTH
    # What the anthropic SDK raises when the AWS chain or ADC give no credential at all.
    if isinstance(exc, RuntimeError) and (
        "Could not resolve AWS credentials" in str(exc) or "Could not resolve API token" in str(exc)
    ):
        return ErrorKind.AUTH
    return None


def check_cloud_fields(provider: Provider) -> None:
    """Raise ``bad_request`` when ``provider`` lacks a field its kind needs."""
    settings = provider.settings
    values = {key: getattr(settings, key) for key in CLOUD_FIELDS}
    problem = missing_fields(settings.kind, values)
    if problem is not None:
        message = f"{problem} (providers.{provider.name} in the configuration)"
        raise make_error(provider, ErrorKind.BAD_REQUEST, message, settings.model or "")
