"""Who a request comes from, as recorded in the model registry.

MLflow's clients send ``MLFLOW_TRACKING_USERNAME`` and its password as HTTP
Basic credentials, and nothing when they are unset. The server takes the
user name from them and records it as who created a registered model or
version, moved an alias or changed a stage. Kiln's server does not check
the password: the name is as trustworthy as whatever authenticates requests
in front of the server (a reverse proxy that checks Basic credentials).
A request without Basic credentials, or with a bearer token, which names
no user, is recorded as made by no one known.
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["basic_user"]


def basic_user(authorization: str | None) -> str | None:
    """The user name of an ``Authorization: Basic …`` header, else None.

    Malformed credentials name no one; they are not refused here, as the
    server authenticates no request itself.
    """
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, _ = decoded.partition(":")
    return user if separator and user else None
