"""A run's artifacts: the listing and the UI's download route.

The run's ``artifact_uri`` decides where its files are:
:func:`~kiln.server.artifact_reads.open_artifact_files` reads them from a
local folder inside the configured roots or from the server's own S3
destination, refusing anything else, and every client path stays inside the
run's folder.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kiln.server.artifact_reads import ArtifactFiles, open_artifact_files
from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.server.responses import error_response
from kiln.wire import JSONObject, Message, compact, file_info_to_dict, read_run_id

__all__ = ["ENDPOINTS", "plain_routes"]


def _run_files(context: ServerContext, run_id: str) -> tuple[str, ArtifactFiles]:
    run = context.store.get_run(run_id)
    uri = run.info.artifact_uri
    return uri, open_artifact_files(context, uri, f"run {run_id!r}")


def list_artifacts(context: ServerContext, msg: Message) -> JSONObject:
    # One page holds the whole folder: listings of a single folder stay small,
    # so page_token is accepted and no next token is ever sent.
    root_uri, files = _run_files(context, read_run_id(msg))
    found = files.list(msg.string("path") or None)
    return compact({"root_uri": root_uri, "files": list(map(file_info_to_dict, found))})


def _download(
    context: ServerContext, run_id: str, path: str, range_header: str | None
) -> Response:
    _, files = _run_files(context, run_id)
    return files.download_response(path, range_header)


def plain_routes(context: ServerContext, prefix: str = "") -> list[BaseRoute]:
    """``GET /get-artifact?run_id=&path=``: a run's file, for the UI's download."""

    async def get_artifact(request: Request) -> Response:
        try:
            msg = Message.from_query(request.query_params.multi_items())
            run_id = read_run_id(msg)
            path = msg.string("path", required=True)
            range_header = request.headers.get("range")
            return await run_in_threadpool(
                _download, context, run_id, path, range_header
            )
        except Exception as exc:
            return error_response(exc)

    return [Route(f"{prefix}/get-artifact", get_artifact, methods=["GET"])]


ENDPOINTS = [Endpoint("/mlflow/artifacts/list", ("GET",), list_artifacts)]
