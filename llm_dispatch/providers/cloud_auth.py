"""Failures of the cloud kinds' credential chains, as error kinds.

google-auth (Application Default Credentials, token refresh) and botocore (the AWS
credential chain, SigV4 signing) raise their own exceptions before a request is sent. A
credential that cannot be found or refreshed is ``auth`` (no retry; fallback moves on); a
token endpoint that cannot be reached is ``connection``. Neither library is imported here:
an exception of theirs can only come from a module already loaded.
"""

from __future__ import annotations

import sys

from ..errors import ErrorKind

__all__ = ["credential_error_kind"]

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
