"""The artifact proxy, ``/api/2.0/mlflow-artifacts``: upload, download, list, delete.

Clients rewrite ``mlflow-artifacts:/<path>`` to these routes. Bodies stream in
both directions, so a large model never sits in memory. With
``--no-serve-artifacts`` every route answers 503.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kiln.errors import NotImplementedFeature
from kiln.server.context import ServerContext
from kiln.server.endpoints import API_PREFIXES
from kiln.server.responses import (
    EMPTY_JSON,
    error_response,
    file_response,
    json_response,
)
from kiln.wire import compact, file_info_to_dict

__all__ = ["PROXY_PATH", "routes"]

logger = logging.getLogger(__name__)

PROXY_PATH = "/2.0/mlflow-artifacts"


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
            located = await run_in_threadpool(destination.file_for_download, path)
        except Exception as exc:
            return error_response(exc)
        return file_response(*located)

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

    async def not_on_local_storage(request: Request) -> Response:
        # MLflow answers the same for multipart uploads and presigned URLs on a
        # local destination; clients then fall back to plain PUT and GET.
        # TODO: multipart uploads and presigned URLs need an S3 destination;
        # until one exists these routes answer 501 NOT_IMPLEMENTED.
        try:
            context.require_destination()
            raise NotImplementedFeature(
                "Multipart uploads and presigned URLs are not available for a "
                "local artifact destination; upload with a single PUT."
            )
        except Exception as exc:
            return error_response(exc)

    found: list[BaseRoute] = []
    for base in proxy_prefixes(prefix):
        found += [
            Route(f"{base}/artifacts", list_artifacts, methods=["GET"]),
            Route(f"{base}/artifacts/{{path:path}}", download, methods=["GET"]),
            Route(f"{base}/artifacts/{{path:path}}", upload, methods=["PUT"]),
            Route(f"{base}/artifacts/{{path:path}}", delete, methods=["DELETE"]),
            Route(
                f"{base}/presigned/{{path:path}}", not_on_local_storage, methods=["GET"]
            ),
        ]
        found += [
            Route(
                f"{base}/mpu/{action}/{{path:path}}",
                not_on_local_storage,
                methods=["POST"],
            )
            for action in ("create", "complete", "abort")
        ]
    return found
