"""Request checks every route gets: Host allow-list, CSRF guards, CORS, headers.

One pure ASGI middleware, run before routing:

* **DNS rebinding.** The ``Host`` header must name this server: loopback
  names (any port) plus ``--allowed-hosts``; ``*`` turns the check off.
  Health probes (``GET /health``) are answered whatever the host.
* **Cross-site request forgery.** A state-changing request must carry
  ``Content-Type: application/json``: a browser cannot send that cross-site
  without a CORS preflight, which only allowed origins pass. PUT and DELETE
  always need a preflight, so they are exempt where they may come without
  JSON: the artifact proxy's raw bodies, and any DELETE (MLflow's client
  deletes a logged model's tag with no body at all). A state-changing
  request that names an ``Origin`` must name an allowed one.
* **CORS.** Allowed origins (same origin, loopback pages and
  ``--cors-allowed-origins``) get the headers that let a browser read the
  answer; preflights are answered here.
* Every response says ``nosniff`` and ``SAMEORIGIN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiln.errors import InvalidParameterValue, KilnError, PermissionDenied
from kiln.server.responses import error_response

__all__ = ["LOOPBACK_HOSTS", "SecurityMiddleware", "split_host"]

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
STATE_CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Methods whose requests a browser always preflights, so the artifact proxy may
# take them with any body type.
_PREFLIGHTED_METHODS = frozenset({"PUT", "DELETE"})
_ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_DEFAULT_ALLOWED_HEADERS = "authorization, content-type"
_PREFLIGHT_MAX_AGE = "600"
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
]


def split_host(host: str) -> tuple[str, str | None]:
    """Split ``name[:port]`` (IPv6 in brackets) into lower-case name and port."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        if end == -1:
            return host, None
        name, rest = host[: end + 1], host[end + 1 :]
        return name, rest[1:] if rest.startswith(":") else None
    if host.count(":") == 1:
        name, port = host.split(":")
        return name, port
    if host.count(":") > 1:
        # A bare IPv6 address, as a user may type it in --allowed-hosts.
        return f"[{host}]", None
    return host, None


class _HostRule:
    """One allow-list entry: ``name``, ``name:port`` or ``*.domain``."""

    __slots__ = ("name", "port", "suffix")

    def __init__(self, entry: str) -> None:
        self.name, self.port = split_host(entry)
        self.suffix = self.name[1:] if self.name.startswith("*.") else None

    def matches(self, name: str, port: str | None) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.suffix is not None:
            return name.endswith(self.suffix)
        return name == self.name


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


class SecurityMiddleware:
    """Refuse requests for other hosts, cross-site writes and non-JSON writes."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Iterable[str] = (),
        cors_allowed_origins: Iterable[str] = (),
        raw_body_prefixes: Iterable[str] = (),
        any_host_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        hosts = [entry for entry in allowed_hosts if entry]
        self.any_host = "*" in hosts
        self.host_rules = [_HostRule(entry) for entry in (*LOOPBACK_HOSTS, *hosts)]
        origins = [entry.rstrip("/").lower() for entry in cors_allowed_origins]
        self.any_origin = "*" in origins
        self.origins = frozenset(origins)
        self.raw_body_prefixes = tuple(raw_body_prefixes)
        self.any_host_paths = frozenset(any_host_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        host = _header(scope, b"host") or ""
        origin = _header(scope, b"origin")
        origin_allowed = origin is not None and self.is_allowed_origin(origin, host)
        extra = list(_SECURITY_HEADERS)
        if origin is not None:
            # The answer depends on the origin, so caches must key on it.
            extra.append((b"vary", b"Origin"))
        if origin is not None and origin_allowed:
            extra.append((b"access-control-allow-origin", origin.encode("latin-1")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        refusal = self._refusal(scope, host, origin, origin_allowed)
        if refusal is not None:
            await error_response(refusal)(scope, receive, send_with_headers)
        elif scope["method"] == "OPTIONS" and origin is not None:
            await _answer_preflight(scope, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)

    def _refusal(
        self, scope: Scope, host: str, origin: str | None, origin_allowed: bool
    ) -> KilnError | None:
        """The error to answer this request with, or None to serve it."""
        # Load balancers and orchestrators probe health by IP address; the
        # answer, "OK", tells a rebinding attacker nothing.
        host_checked = not (
            scope["method"] in ("GET", "HEAD") and scope["path"] in self.any_host_paths
        )
        if host_checked and not self.is_allowed_host(host):
            return PermissionDenied(
                f"Host {host!r} is not allowed; start the server with "
                "--allowed-hosts to accept it."
            )
        method = scope["method"]
        # Reads from another origin are served: without CORS headers the
        # browser keeps the answer from the page.
        guarded = method in STATE_CHANGING_METHODS or method == "OPTIONS"
        if guarded and origin is not None and not origin_allowed:
            return PermissionDenied(
                f"Origin {origin!r} may not call this server; add it with "
                "--cors-allowed-origins."
            )
        if method in STATE_CHANGING_METHODS and not self._is_json_or_exempt(scope):
            content_type = _header(scope, b"content-type") or ""
            return InvalidParameterValue(
                f"Content-Type must be 'application/json' for {method} requests, "
                f"got {content_type!r}."
            )
        return None

    def _is_json_or_exempt(self, scope: Scope) -> bool:
        if scope["method"] == "DELETE":
            return True
        if scope["method"] in _PREFLIGHTED_METHODS and scope["path"].startswith(
            self.raw_body_prefixes
        ):
            return True
        content_type = _header(scope, b"content-type") or ""
        return content_type.split(";", 1)[0].strip().lower() == "application/json"

    def is_allowed_host(self, host: str) -> bool:
        """Whether ``host`` (a Host header value) names this server."""
        if self.any_host:
            return True
        name, port = split_host(host)
        return bool(name) and any(rule.matches(name, port) for rule in self.host_rules)

    def is_allowed_origin(self, origin: str, host: str) -> bool:
        """Whether pages from ``origin`` may call this server (reached as ``host``)."""
        if self.any_origin:
            return True
        normalized = origin.rstrip("/").lower()
        if normalized in self.origins:
            return True
        parts = urlsplit(normalized)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False
        same_origin = parts.netloc == host.strip().lower()
        return same_origin or split_host(parts.netloc)[0] in LOOPBACK_HOSTS


async def _answer_preflight(scope: Scope, send: Send) -> None:
    """Answer a CORS preflight from an allowed origin (the origin header and
    the security headers are added by the caller's ``send``)."""
    requested = _header(scope, b"access-control-request-headers")
    headers = [
        (b"access-control-allow-methods", _ALLOWED_METHODS.encode()),
        (
            b"access-control-allow-headers",
            (requested or _DEFAULT_ALLOWED_HEADERS).encode("latin-1"),
        ),
        (b"access-control-max-age", _PREFLIGHT_MAX_AGE.encode()),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
