"""The artifact proxy, ``/api/2.0/mlflow-artifacts``: upload, download, list, delete.

Clients rewrite ``mlflow-artifacts:/<path>`` to these routes. Bodies stream in
both directions, so a large model never sits in memory. Multipart uploads and
presigned downloads go straight to the store, so only an S3 destination offers
them. With ``--no-serve-artifacts`` every route answers 503.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kiln.errors import BadRequest, NotImplementedFeature
from kiln.server import presigned
from kiln.server.context import ServerContext
from kiln.server.destination_s3 import S3Destination
from kiln.server.endpoints import API_PREFIXES
from kiln.server.responses import (
    EMPTY_JSON,
    RequestTooLarge,
    error_response,
    json_response,
)
from kiln.wire import JSONObject, compact, file_info_to_dict

__all__ = ["PROXY_PATH", "routes"]

logger = logging.getLogger(__name__)

PROXY_PATH = "/2.0/mlflow-artifacts"

Answer = JSONObject | None
Handler = Callable[[Request], Awaitable[Response]]
S3Action = Callable[[S3Destination, Request], Awaitable[Answer]]
MultipartStep = Callable[[S3Destination, str, JSONObject], Answer]
# A completion lists at most 10,000 parts of about 100 bytes each.
_MAX_JSON_BODY = 4 * 1024 * 1024


def proxy_prefixes(prefix: str = "") -> list[str]:
    """Where the proxy is mounted: under ``/api`` and, mirrored, ``/ajax-api``."""
    return [f"{prefix}{api}{PROXY_PATH}" for api in API_PREFIXES]


def routes(context: ServerContext, prefix: str = "") -> list[BaseRoute]:
    """The proxy's routes for ``context``'s destination."""

    async def list_artifacts(request: Request) -> Response:
        try:
            destination = context.require_destination()
            path = request.query_params.get("path") or None
            files = await run_in_threadpool(destination.list, path)
        except Exception as exc:
            return error_response(exc)
        return json_response(compact({"files": list(map(file_info_to_dict, files))}))

    async def download(request: Request) -> Response:
        try:
            destination = context.require_destination()
            path = request.path_params["path"]
            range_header = request.headers.get("range")
            return await run_in_threadpool(
                destination.download_response, path, range_header
            )
        except Exception as exc:
            return error_response(exc)

    async def upload(request: Request) -> Response:
        path = request.path_params["path"]
        try:
            destination = context.require_destination()
            await destination.upload(path, request.stream())
        except ClientDisconnect:
            # The half-written file is already removed; nobody is left to answer.
            logger.info("Client left during the upload of %r; nothing was stored", path)
            return Response(status_code=400)
        except Exception as exc:
            return error_response(exc)
        return json_response(EMPTY_JSON)

    async def delete(request: Request) -> Response:
        try:
            destination = context.require_destination()
            await run_in_threadpool(destination.delete, request.path_params["path"])
        except Exception as exc:
            return error_response(exc)
        return json_response(EMPTY_JSON)

    def s3_only(action: S3Action) -> Handler:
        async def handle(request: Request) -> Response:
            try:
                destination = _require_s3(context)
                answer = await action(destination, request)
            except Exception as exc:
                return error_response(exc)
            return json_response(answer or EMPTY_JSON)

        return handle

    async def download_url(destination: S3Destination, request: Request) -> Answer:
        path = request.path_params["path"]
        return await run_in_threadpool(presigned.presigned_download, destination, path)

    def multipart(step: MultipartStep) -> Handler:
        async def action(destination: S3Destination, request: Request) -> Answer:
            message = await _json_message(request)
            folder = request.path_params["path"]
            return await run_in_threadpool(step, destination, folder, message)

        return s3_only(action)

    found: list[BaseRoute] = []
    for base in proxy_prefixes(prefix):
        found += [
            Route(f"{base}/artifacts", list_artifacts, methods=["GET"]),
            Route(f"{base}/artifacts/{{path:path}}", download, methods=["GET"]),
            Route(f"{base}/artifacts/{{path:path}}", upload, methods=["PUT"]),
            Route(f"{base}/artifacts/{{path:path}}", delete, methods=["DELETE"]),
            Route(
                f"{base}/presigned/{{path:path}}",
                s3_only(download_url),
                methods=["GET"],
            ),
        ]
        found += [
            Route(
                f"{base}/mpu/{action}/{{path:path}}", multipart(step), methods=["POST"]
            )
            for action, step in _MULTIPART_STEPS.items()
        ]
    return found


_MULTIPART_STEPS: dict[str, MultipartStep] = {
    "create": presigned.create_multipart_upload,
    "complete": presigned.complete_multipart_upload,
    "abort": presigned.abort_multipart_upload,
}


# The start of the refusal that MLflow's client recognises (see _require_s3).
_NO_MULTIPART_PREFIX = (
    "Multipart upload is not supported for the current artifact repository"
)


def _require_s3(context: ServerContext) -> S3Destination:
    destination = context.require_destination()
    if not isinstance(destination, S3Destination):
        # MLflow answers the same on a local destination. Its client falls
        # back to a plain PUT only when the message starts with the words
        # it looks for, so the answer begins with them.
        raise NotImplementedFeature(
            f"{_NO_MULTIPART_PREFIX}: a local artifact destination takes "
            "uploads with a single PUT, and offers no presigned URLs."
        )
    return destination


async def _json_message(request: Request) -> JSONObject:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_JSON_BODY:
            raise RequestTooLarge(
                f"The request body is larger than {_MAX_JSON_BODY} bytes; "
                "a multipart request lists its parts in less."
            )
    try:
        message = json.loads(body or b"{}")
    except ValueError as exc:
        raise BadRequest("The request body is not valid JSON.") from exc
    if not isinstance(message, dict):
        raise BadRequest(
            f"Expected a JSON object as the body, got a {type(message).__name__}."
        )
    return message
