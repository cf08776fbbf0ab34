"""How the REST store talks HTTP: retries, timeout, credentials and TLS.

Every setting is read from a ``KILN_`` environment variable, falling back to
the ``MLFLOW_`` name users of MLflow already set, then to MLflow's default.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

from kiln.errors import InvalidParameterValue

__all__ = ["RestConfig"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


def _lookup(environ: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """The value of ``KILN_<name>``, else ``MLFLOW_<name>``, with the name used."""
    for prefix in ("KILN_", "MLFLOW_"):
        value = environ.get(prefix + name)
        if value is not None:
            return prefix + name, value
    return None


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    found = _lookup(environ, name)
    if found is None:
        return default
    variable, text = found
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise InvalidParameterValue(
            f"Invalid {variable}={text!r}; expected a non-negative number."
        )
    return value


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    found = _lookup(environ, name)
    if found is None:
        return default
    variable, text = found
    if text.strip().lower() in _TRUE:
        return True
    if text.strip().lower() in _FALSE:
        return False
    raise InvalidParameterValue(f"Invalid {variable}={text!r}; expected true or false.")


def _text(environ: Mapping[str, str], name: str) -> str | None:
    found = _lookup(environ, name)
    return found[1] if found and found[1] else None


@dataclass(frozen=True, slots=True)
class RestConfig:
    """Settings of the HTTP client behind :class:`~kiln.store.rest.RestStore`.

    The defaults are MLflow's: 7 retries, backoff factor 2 s, up to 1 s of
    jitter, a 120 s timeout, and ``Retry-After`` honoured.
    """

    max_retries: int = 7
    backoff_factor: float = 2.0
    backoff_jitter: float = 1.0
    max_backoff: float = 120.0
    timeout: float = 120.0
    respect_retry_after: bool = True
    username: str | None = None
    password: str | None = None
    token: str | None = None
    insecure_tls: bool = False
    server_cert_path: str | None = None
    client_cert_path: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RestConfig:
        """Read the settings from ``KILN_*`` / ``MLFLOW_*`` variables.

        Raises InvalidParameterValue naming the variable when a value does
        not parse.
        """
        env = os.environ if environ is None else environ
        return cls(
            max_retries=int(_number(env, "HTTP_REQUEST_MAX_RETRIES", 7)),
            backoff_factor=_number(env, "HTTP_REQUEST_BACKOFF_FACTOR", 2.0),
            backoff_jitter=_number(env, "HTTP_REQUEST_BACKOFF_JITTER", 1.0),
            timeout=_number(env, "HTTP_REQUEST_TIMEOUT", 120.0),
            respect_retry_after=_flag(env, "HTTP_RESPECT_RETRY_AFTER_HEADER", True),
            username=_text(env, "TRACKING_USERNAME"),
            password=_text(env, "TRACKING_PASSWORD"),
            token=_text(env, "TRACKING_TOKEN"),
            insecure_tls=_flag(env, "TRACKING_INSECURE_TLS", False),
            server_cert_path=_text(env, "TRACKING_SERVER_CERT_PATH"),
            client_cert_path=_text(env, "TRACKING_CLIENT_CERT_PATH"),
        )

    def authorization(self) -> str | None:
        """The ``Authorization`` header MLflow's client would send, if any:
        Basic when a username and password are set, else Bearer with the token."""
        if self.username and self.password:
            pair = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if self.token:
            return f"Bearer {self.token}"
        return None

    def ssl_context(self) -> ssl.SSLContext | bool:
        """httpx's ``verify``: False for insecure TLS, else a context trusting
        the configured CA bundle (or the system's) and presenting the client
        certificate when one is set."""
        if self.insecure_tls:
            return False
        if not (self.server_cert_path or self.client_cert_path):
            return True
        context = ssl.create_default_context(cafile=self.server_cert_path)
        if self.client_cert_path:
            context.load_cert_chain(self.client_cert_path)
        return context

    def __repr__(self) -> str:
        # Credentials stay out of logs and tracebacks.
        return (
            f"RestConfig(max_retries={self.max_retries}, "
            f"backoff_factor={self.backoff_factor}, "
            f"backoff_jitter={self.backoff_jitter}, timeout={self.timeout}, "
            f"auth={'basic' if self.username else 'token' if self.token else None})"
        )
