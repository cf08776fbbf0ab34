"""One pooled HTTP client for a tracking server, with MLflow's retry rules.

A request that failed for a passing reason (HTTP 408, 429, 500, 502, 503,
504, or a broken connection) is sent again after an exponential backoff with
jitter, or after the server's ``Retry-After``. Only requests that are safe to
repeat are repeated on every such failure. Any other request (creating an
experiment or a run, say) is repeated only when the failure proves the server
did not act on it: the connection was never made, or the answer was 429 or
503, which servers send before doing any work. Repeating a create that did
succeed would otherwise fail with RESOURCE_ALREADY_EXISTS or make a twin.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any
from urllib.parse import urlsplit

import httpx

from kiln.errors import (
    InvalidParameterValue,
    KilnError,
    StorageUnavailable,
    error_for_code,
)
from kiln.store.rest.config import RestConfig
from kiln.wire import JSONObject, compact, dumps, loads

__all__ = ["RETRY_STATUSES", "RestClient"]

logger = logging.getLogger(__name__)


def _user_agent() -> str:
    try:
        return f"kiln-ml/{metadata.version('kiln-ml')}"
    except metadata.PackageNotFoundError:
        return "kiln-ml"


RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Answers a server (or the proxy in front of it) gives before handling a request.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})
# Network trouble that may pass; a bad URL scheme or a local protocol error won't.
_PASSING_ERRORS = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
# Failures that happen before any byte of the request reached the server.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class RestClient:
    """Send MLflow API calls to one server and decode the answers.

    ``base_url`` is the tracking URI without a trailing slash; ``client`` is
    the shared ``httpx.Client``, which an artifact repository may reuse.
    ``transport``, ``sleep`` and ``uniform`` exist so tests can run without
    a network or real waiting.
    """

    def __init__(
        self,
        base_url: str,
        config: RestConfig | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        uniform: Callable[[float, float], float] | None = None,
    ) -> None:
        self.base_url = _check_base_url(base_url)
        self.config = config or RestConfig.from_env()
        self._sleep = sleep
        self._uniform = uniform or random.uniform
        headers = {"User-Agent": _user_agent()}
        authorization = self.config.authorization()
        if authorization:
            headers["Authorization"] = authorization
        self.client = httpx.Client(
            headers=headers,
            timeout=self.config.timeout,
            verify=self.config.ssl_context(),
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        self.client.close()

    def call(
        self, method: str, path: str, fields: JSONObject, *, idempotent: bool
    ) -> JSONObject:
        """Send one API call and return the decoded JSON answer.

        ``path`` starts with ``/api/...``; a GET sends ``fields`` as query
        parameters, any other verb as a JSON body. Raises the Kiln error
        matching the server's error code.
        """
        url = self.base_url + path
        fields = compact(fields)

        def build() -> httpx.Request:
            if method == "GET":
                return self.client.build_request(method, url, params=_query(fields))
            return self.client.build_request(
                method,
                url,
                content=dumps(fields),
                headers={"Content-Type": "application/json"},
            )

        response = self.send(build, idempotent=idempotent)
        return _decode(response, method, url)

    def send(
        self,
        build: Callable[[], httpx.Request],
        *,
        idempotent: bool,
        stream: bool = False,
    ) -> httpx.Response:
        """Send the request ``build`` makes, rebuilding it for each retry.

        Returns the final response whatever its status (unread when
        ``stream`` is true; the caller closes it); raises StorageUnavailable
        when the server cannot be reached.
        """
        attempt = 0
        while True:
            request = build()
            try:
                response = self.client.send(request, stream=stream)
            except httpx.TransportError as exc:
                if not self._may_retry_error(exc, attempt, idempotent):
                    raise StorageUnavailable(
                        f"Could not reach the tracking server at {self.base_url!r} "
                        f"after {attempt + 1} attempt(s): {exc!r}."
                    ) from exc
                delay, reason = self._backoff(attempt), type(exc).__name__
            else:
                if not self._may_retry_response(response, attempt, idempotent):
                    return response
                delay = self._retry_after(response) or self._backoff(attempt)
                reason = str(response.status_code)
                response.close()
            attempt += 1
            logger.warning(
                "Retrying %s %s after %s (attempt %d of %d) in %.1f s",
                request.method,
                request.url.path,
                reason,
                attempt,
                self.config.max_retries,
                delay,
            )
            self._sleep(delay)

    def raise_for_error(self, response: httpx.Response) -> None:
        """Raise the Kiln error a failed response stands for; do nothing on success."""
        if response.is_success:
            return
        response.read()
        raise _error(response, response.request.method, str(response.request.url))

    def _may_retry_error(
        self, exc: httpx.TransportError, attempt: int, idempotent: bool
    ) -> bool:
        if attempt >= self.config.max_retries or not isinstance(exc, _PASSING_ERRORS):
            return False
        return idempotent or isinstance(exc, _NOT_SENT_ERRORS)

    def _may_retry_response(
        self, response: httpx.Response, attempt: int, idempotent: bool
    ) -> bool:
        status = response.status_code
        if attempt >= self.config.max_retries or status not in RETRY_STATUSES:
            return False
        return idempotent or status in _NOT_PROCESSED_STATUSES

    def _backoff(self, attempt: int) -> float:
        """factor * 2**attempt plus random jitter, capped at ``max_backoff``."""
        config = self.config
        delay = config.backoff_factor * (2**attempt)
        if config.backoff_jitter > 0:
            delay += self._uniform(0.0, config.backoff_jitter)
        return min(float(delay), config.max_backoff)

    def _retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the server asked us to wait, if it did and we listen.

        The wait is capped at ``max_backoff`` so a wrong header cannot stall
        a training job for hours.
        """
        header = response.headers.get("Retry-After")
        if not header or not self.config.respect_retry_after:
            return None
        try:
            seconds = float(header)
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                return None
            seconds = when.timestamp() - time.time()
        return min(max(seconds, 0.0), self.config.max_backoff)


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidParameterValue(
            f"Invalid tracking server URL {url!r}; expected http://host:port or "
            "https://host[/prefix]."
        )
    return url.rstrip("/")


def _query(fields: JSONObject) -> dict[str, Any]:
    """Query parameters: repeated fields repeat the key, bools are true/false."""
    params: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, list):
            params[key] = [str(item) for item in value]
        else:
            params[key] = str(value)
    return params


def _decode(response: httpx.Response, method: str, url: str) -> JSONObject:
    """The JSON object of a success, or the Kiln error of a failure."""
    if response.is_success:
        if not response.content.strip():
            return {}
        body = _json_object(response)
        if body is None:
            raise KilnError(
                f"The tracking server answered {method} {url} with a body that is "
                f"not a JSON object: {response.text[:200]!r}."
            )
        return body
    raise _error(response, method, url)


def _json_object(response: httpx.Response) -> JSONObject | None:
    try:
        body = loads(response.content)
    except KilnError:
        return None
    return body if isinstance(body, dict) else None


def _error(response: httpx.Response, method: str, url: str) -> KilnError:
    status = response.status_code
    body = _json_object(response)
    if body is not None and isinstance(body.get("error_code"), str):
        message = str(body.get("message") or f"HTTP {status} from {method} {url}.")
        error = error_for_code(body["error_code"], message)
    elif status == 404:
        # MLflow's client reads a bare 404 as a missing endpoint; callers
        # use that to fall back to an older API.
        error = error_for_code(
            "ENDPOINT_NOT_FOUND",
            f"The tracking server has no endpoint {method} {url} (HTTP 404).",
        )
    else:
        text = response.text[:500].strip()
        error = _error_by_status(status, method, url, text)
    if type(error) is KilnError:
        error.http_status = status
    return error


def _error_by_status(status: int, method: str, url: str, text: str) -> KilnError:
    codes = {
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        429: "REQUEST_LIMIT_EXCEEDED",
    }
    code = codes.get(status, "TEMPORARILY_UNAVAILABLE" if status == 503 else "")
    message = (
        f"The tracking server answered {method} {url} with HTTP {status}: {text!r}."
    )
    return error_for_code(code, message)
