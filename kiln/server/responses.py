"""JSON responses, and the one place Kiln's errors become HTTP responses.

Every error a route raises reaches :func:`error_response`: a
:class:`~kiln.errors.KilnError` keeps its MLflow error code and HTTP status;
anything else is logged once with its traceback and answered with a generic
500, so no SQL text, stack trace or file-system path reaches a client. The
store's own failures (a plain ``KilnError``, or ``StorageUnavailable``) keep
their status but are answered with a generic message, since theirs names
the database.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, Response

from kiln.errors import KilnError, StorageUnavailable
from kiln.wire.encoding import dumps

__all__ = [
    "EMPTY_JSON",
    "ArtifactServingDisabled",
    "EndpointNotFound",
    "MethodNotAllowed",
    "RequestTooLarge",
    "error_response",
    "file_response",
    "internal_error_response",
    "json_response",
]

logger = logging.getLogger(__name__)

JSON_MEDIA_TYPE = "application/json"
EMPTY_JSON = b"{}"
# Types a browser would render or run; artifacts of these types are served as
# plain text so a stored file cannot script this server's origin.
_ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)


class RequestTooLarge(KilnError):
    """A request body is larger than the server accepts for that route."""

    error_code = "BAD_REQUEST"
    http_status = 413


class ArtifactServingDisabled(KilnError):
    """The artifact proxy is off (``--no-serve-artifacts``)."""

    error_code = "TEMPORARILY_UNAVAILABLE"
    http_status = 503


class EndpointNotFound(KilnError):
    """No route serves this path; MLflow clients read 404 as "not offered here"."""

    error_code = "ENDPOINT_NOT_FOUND"
    http_status = 404


class MethodNotAllowed(KilnError):
    """The path exists, but not for this HTTP method."""

    error_code = "BAD_REQUEST"
    http_status = 405


class JsonResponse(Response):
    """A response whose body is already-encoded JSON."""

    media_type = JSON_MEDIA_TYPE


def json_response(body: dict[str, Any] | bytes, status_code: int = 200) -> Response:
    """Encode ``body`` as MLflow's JSON (bytes pass through) in a response."""
    content = body if isinstance(body, bytes) else dumps(body)
    return JsonResponse(content, status_code=status_code)


def error_response(
    exc: BaseException, headers: dict[str, str] | None = None
) -> Response:
    """Turn any exception raised while serving a request into MLflow's error body."""
    if not isinstance(exc, KilnError):
        logger.error("Unexpected error while serving a request", exc_info=exc)
        return internal_error_response()
    if type(exc) is KilnError and exc.error_code == KilnError.error_code:
        # A failure inside the store: its message may name the database.
        logger.error("Store failure while serving a request: %s", exc.message)
        return internal_error_response()
    if isinstance(exc, StorageUnavailable):
        logger.warning("Storage unavailable: %s", exc.message)
        exc = StorageUnavailable(
            "The tracking database is unavailable at the moment; try again later."
        )
    body = {"error_code": exc.error_code, "message": exc.message}
    response = json_response(body, exc.http_status)
    if headers:
        response.headers.update(headers)
    return response


def internal_error_response() -> Response:
    """The generic 500 answer: it names no cause, the server log does."""
    body = {
        "error_code": "INTERNAL_ERROR",
        "message": "The server hit an unexpected error; its log has the details.",
    }
    return json_response(body, 500)


def safe_media_type(name: str) -> str:
    """The media type to serve a file named ``name`` with."""
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return "text/plain" if guessed in _ACTIVE_TYPES else guessed


def file_response(path: Path, stat: os.stat_result) -> Response:
    """Stream a file as an attachment; single ``Range`` requests get a 206."""
    return FileResponse(
        path,
        stat_result=stat,
        filename=path.name,
        media_type=safe_media_type(path.name),
    )
