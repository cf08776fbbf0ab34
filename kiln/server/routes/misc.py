"""Plain routes every server answers: health, version and server capabilities."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.wire import JSONObject, Message

__all__ = ["ENDPOINTS", "kiln_version", "plain_routes"]


def kiln_version() -> str:
    """The installed version of Kiln."""
    try:
        return version("kiln-ml")
    except PackageNotFoundError:
        return "0.0.0"


def get_server_info(context: ServerContext, msg: Message) -> JSONObject:
    # MLflow's clients probe this before moving artifacts; they upload large
    # files in presigned parts only where multipart uploads are advertised.
    destination = context.destination
    return {
        "store_type": type(context.store).__name__,
        "workspaces_enabled": False,
        "multipart_uploads_enabled": destination is not None
        and destination.multipart_uploads_enabled,
        "artifact_serving_enabled": context.destination is not None,
        "artifacts_presigned_only": False,
    }


def plain_routes(prefix: str = "") -> list[BaseRoute]:
    """``/health`` and ``/version``, answered as plain text."""
    current = kiln_version()

    async def get_health(request: Request) -> Response:
        return PlainTextResponse("OK")

    async def get_version(request: Request) -> Response:
        return PlainTextResponse(current)

    return [
        Route(f"{prefix}/health", get_health, methods=["GET"]),
        Route(f"{prefix}/version", get_version, methods=["GET"]),
    ]


ENDPOINTS = [
    Endpoint("/mlflow/server-info", ("GET",), get_server_info, major=3, quick=True)
]
