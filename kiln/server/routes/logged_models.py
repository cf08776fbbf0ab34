"""Logged-model endpoints (MLflow 3): create, read, finalize, delete, search,
tags, params, and the model's artifact listing and downloads.

MLflow mounts them under ``/api/2.0`` (and ``/ajax-api/2.0``) with the model
id in the path. A model's files live under its ``artifact_uri``
(``<experiment artifact location>/models/<model_id>/artifacts``); clients
upload them through the artifact proxy, and the server lists and sends them
for the UI.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kiln.errors import BadRequest
from kiln.server.artifact_reads import ArtifactFiles, open_artifact_files
from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.server.responses import error_response
from kiln.store.base import SEARCH_LOGGED_MODELS_DEFAULT
from kiln.wire import (
    JSONObject,
    Message,
    compact,
    file_info_to_dict,
    logged_model_dataset_from_dict,
    logged_model_order_by_from_dict,
    logged_model_params_from_list,
    logged_model_tags_from_list,
    logged_model_to_dict,
    read_logged_model_status,
)

__all__ = ["ENDPOINTS", "plain_routes"]


def _model_id(msg: Message) -> str:
    return msg.string("model_id", required=True)


def create_logged_model(context: ServerContext, msg: Message) -> JSONObject:
    model = context.store.create_logged_model(
        experiment_id=msg.string("experiment_id", required=True),
        name=msg.string("name") or None,
        source_run_id=msg.string("source_run_id") or None,
        tags=logged_model_tags_from_list(msg),
        params=logged_model_params_from_list(msg),
        model_type=msg.string("model_type") or None,
    )
    return {"model": logged_model_to_dict(model)}


def get_logged_model(context: ServerContext, msg: Message) -> JSONObject:
    allow_deleted = bool(msg.boolean("allow_deleted"))
    model = context.store.get_logged_model(_model_id(msg), allow_deleted)
    return {"model": logged_model_to_dict(model)}


def finalize_logged_model(context: ServerContext, msg: Message) -> JSONObject:
    status = read_logged_model_status(msg, required=True)
    model = context.store.finalize_logged_model(_model_id(msg), status or "")
    return {"model": logged_model_to_dict(model)}


def delete_logged_model(context: ServerContext, msg: Message) -> None:
    context.store.delete_logged_model(_model_id(msg))


def set_logged_model_tags(context: ServerContext, msg: Message) -> None:
    context.store.set_logged_model_tags(
        _model_id(msg), logged_model_tags_from_list(msg)
    )


def delete_logged_model_tag(context: ServerContext, msg: Message) -> None:
    context.store.delete_logged_model_tag(
        _model_id(msg), msg.string("tag_key", required=True)
    )


def log_logged_model_params(context: ServerContext, msg: Message) -> None:
    context.store.log_logged_model_params(
        _model_id(msg), logged_model_params_from_list(msg)
    )


def search_logged_models(context: ServerContext, msg: Message) -> JSONObject:
    # MLflow reads a max_results of 0 (the proto default) as "the default".
    max_results = msg.int64("max_results") or SEARCH_LOGGED_MODELS_DEFAULT
    page = context.store.search_logged_models(
        experiment_ids=msg.strings("experiment_ids"),
        filter_string=msg.string("filter") or None,
        datasets=[logged_model_dataset_from_dict(d) for d in msg.messages("datasets")],
        max_results=max_results,
        order_by=[logged_model_order_by_from_dict(o) for o in msg.messages("order_by")],
        page_token=msg.string("page_token") or None,
    )
    return compact(
        {
            "models": [logged_model_to_dict(model) for model in page],
            "next_page_token": page.token,
        }
    )


def _model_files(context: ServerContext, model_id: str) -> tuple[str, ArtifactFiles]:
    model = context.store.get_logged_model(model_id)
    uri = model.artifact_location
    return uri, open_artifact_files(context, uri, f"logged model {model_id!r}")


def list_logged_model_artifacts(context: ServerContext, msg: Message) -> JSONObject:
    # As for runs, one page holds the whole folder.
    root_uri, files = _model_files(context, _model_id(msg))
    found = files.list(msg.string("artifact_directory_path") or None)
    return compact({"root_uri": root_uri, "files": list(map(file_info_to_dict, found))})


def _download(
    context: ServerContext, model_id: str, path: str, range_header: str | None
) -> Response:
    _, files = _model_files(context, model_id)
    return files.download_response(path, range_header)


def plain_routes(context: ServerContext, prefix: str = "") -> list[BaseRoute]:
    """The UI's download of one of a model's files:
    ``GET /ajax-api/2.0/mlflow/logged-models/<id>/artifacts/files?artifact_file_path=``.
    """

    async def get_model_file(request: Request) -> Response:
        try:
            msg = Message.from_query(request.query_params.multi_items())
            path = msg.string("artifact_file_path")
            if not path:
                raise BadRequest(
                    "The request needs the 'artifact_file_path' query parameter "
                    "naming the file to download."
                )
            model_id = str(request.path_params["model_id"])
            range_header = request.headers.get("range")
            return await run_in_threadpool(
                _download, context, model_id, path, range_header
            )
        except Exception as exc:
            return error_response(exc)

    path = f"{prefix}/ajax-api/2.0/mlflow/logged-models/{{model_id}}/artifacts/files"
    return [Route(path, get_model_file, methods=["GET"])]


_ROOT = "/mlflow/logged-models"
_ONE = _ROOT + "/{model_id}"

ENDPOINTS = [
    Endpoint(_ROOT, ("POST",), create_logged_model, quick=True),
    Endpoint(_ROOT + "/search", ("POST",), search_logged_models),
    Endpoint(_ONE, ("GET",), get_logged_model, quick=True),
    Endpoint(_ONE, ("PATCH",), finalize_logged_model, quick=True),
    Endpoint(_ONE, ("DELETE",), delete_logged_model, quick=True),
    Endpoint(_ONE + "/tags", ("PATCH",), set_logged_model_tags, quick=True),
    # A tag key may hold slashes, so it takes the rest of the path.
    Endpoint(
        _ONE + "/tags/{tag_key:path}", ("DELETE",), delete_logged_model_tag, quick=True
    ),
    Endpoint(_ONE + "/params", ("POST",), log_logged_model_params, quick=True),
    Endpoint(_ONE + "/artifacts/directories", ("GET",), list_logged_model_artifacts),
]
