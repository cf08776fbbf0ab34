"""A run's artifacts: the listing and the UI's download route.

The run's ``artifact_uri`` decides where its files are:
:meth:`~kiln.server.locations.ArtifactLocations.local_root_for` maps it to a
local folder (refusing anything outside the configured roots) and every client
path is placed under that folder with the one safe join.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kiln.artifacts.local import LocalRepository
from kiln.artifacts.paths import join_safely
from kiln.errors import ResourceDoesNotExist
from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.server.responses import error_response, file_response
from kiln.wire import JSONObject, Message, compact, file_info_to_dict, read_run_id

__all__ = ["ENDPOINTS", "plain_routes"]


def list_artifacts(context: ServerContext, msg: Message) -> JSONObject:
    # One page holds the whole folder: listings of a single folder stay small,
    # so page_token is accepted and no next token is ever sent.
    run = context.store.get_run(read_run_id(msg))
    root = context.locations.local_root_for(run.info.artifact_uri)
    files = LocalRepository(str(root)).list_artifacts(msg.string("path") or None)
    return compact(
        {
            "root_uri": run.info.artifact_uri,
            "files": list(map(file_info_to_dict, files)),
        }
    )


def _locate_run_file(
    context: ServerContext, run_id: str, path: str
) -> tuple[Path, os.stat_result]:
    run = context.store.get_run(run_id)
    root = context.locations.local_root_for(run.info.artifact_uri)
    target = join_safely(root, path)
    if not target.is_file():
        raise ResourceDoesNotExist(f"Run {run_id!r} has no artifact file at {path!r}.")
    real = Path(os.path.realpath(target))
    return real, real.stat()


def plain_routes(context: ServerContext, prefix: str = "") -> list[BaseRoute]:
    """``GET /get-artifact?run_id=&path=``: a run's file, for the UI's download."""

    async def get_artifact(request: Request) -> Response:
        try:
            msg = Message.from_query(request.query_params.multi_items())
            run_id = read_run_id(msg)
            path = msg.string("path", required=True)
            located = await run_in_threadpool(_locate_run_file, context, run_id, path)
        except Exception as exc:
            return error_response(exc)
        return file_response(*located)

    return [Route(f"{prefix}/get-artifact", get_artifact, methods=["GET"])]


ENDPOINTS = [Endpoint("/mlflow/artifacts/list", ("GET",), list_artifacts)]
