"""Experiment endpoints: create, read, search, rename, delete, restore, tag."""

from __future__ import annotations

from kiln.entities import ViewType
from kiln.errors import ResourceDoesNotExist
from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.store.base import SEARCH_EXPERIMENTS_DEFAULT
from kiln.wire import (
    VIEW_TYPES,
    JSONObject,
    Message,
    compact,
    dataset_summary_to_dict,
    experiment_to_dict,
    tag_from_dict,
)

__all__ = ["ENDPOINTS"]


def create_experiment(context: ServerContext, msg: Message) -> JSONObject:
    name = msg.string("name", required=True)
    location = msg.string("artifact_location") or None
    if location is not None:
        context.locations.check_stored_location(location)
    tags = [tag_from_dict(tag) for tag in msg.messages("tags")]
    experiment_id = context.store.create_experiment(name, location, tags)
    return {"experiment_id": experiment_id}


def get_experiment(context: ServerContext, msg: Message) -> JSONObject:
    experiment_id = msg.string("experiment_id", required=True)
    experiment = context.store.get_experiment(experiment_id)
    return {"experiment": experiment_to_dict(experiment)}


def get_experiment_by_name(context: ServerContext, msg: Message) -> JSONObject:
    name = msg.string("experiment_name", required=True)
    experiment = context.store.get_experiment_by_name(name)
    if experiment is None:
        raise ResourceDoesNotExist(f"No experiment is named {name!r}.")
    return {"experiment": experiment_to_dict(experiment)}


def search_experiments(context: ServerContext, msg: Message) -> JSONObject:
    view_type = msg.enum("view_type", VIEW_TYPES) or ViewType.ACTIVE_ONLY.name
    max_results = msg.int64("max_results")
    page = context.store.search_experiments(
        view_type=ViewType[view_type],
        max_results=SEARCH_EXPERIMENTS_DEFAULT if max_results is None else max_results,
        filter_string=msg.string("filter") or None,
        order_by=msg.strings("order_by"),
        page_token=msg.string("page_token") or None,
    )
    return compact(
        {
            "experiments": [experiment_to_dict(e) for e in page],
            "next_page_token": page.token,
        }
    )


def update_experiment(context: ServerContext, msg: Message) -> None:
    experiment_id = msg.string("experiment_id", required=True)
    new_name = msg.string("new_name", required=True)
    context.store.rename_experiment(experiment_id, new_name)


def delete_experiment(context: ServerContext, msg: Message) -> None:
    context.store.delete_experiment(msg.string("experiment_id", required=True))


def restore_experiment(context: ServerContext, msg: Message) -> None:
    context.store.restore_experiment(msg.string("experiment_id", required=True))


def set_experiment_tag(context: ServerContext, msg: Message) -> None:
    experiment_id = msg.string("experiment_id", required=True)
    context.store.set_experiment_tag(experiment_id, tag_from_dict(msg))


def delete_experiment_tag(context: ServerContext, msg: Message) -> None:
    experiment_id = msg.string("experiment_id", required=True)
    context.store.delete_experiment_tag(experiment_id, msg.string("key", required=True))


def search_datasets(context: ServerContext, msg: Message) -> JSONObject:
    summaries = context.store.search_datasets(msg.strings("experiment_ids"))
    return compact({"dataset_summaries": list(map(dataset_summary_to_dict, summaries))})


_POST = ("POST",)

ENDPOINTS = [
    Endpoint("/mlflow/experiments/create", _POST, create_experiment, quick=True),
    Endpoint("/mlflow/experiments/get", ("GET",), get_experiment, quick=True),
    Endpoint(
        "/mlflow/experiments/get-by-name",
        ("GET",),
        get_experiment_by_name,
        quick=True,
    ),
    Endpoint("/mlflow/experiments/search", ("GET", "POST"), search_experiments),
    Endpoint("/mlflow/experiments/update", _POST, update_experiment, quick=True),
    Endpoint("/mlflow/experiments/delete", _POST, delete_experiment, quick=True),
    Endpoint("/mlflow/experiments/restore", _POST, restore_experiment, quick=True),
    Endpoint(
        "/mlflow/experiments/set-experiment-tag",
        _POST,
        set_experiment_tag,
        quick=True,
    ),
    Endpoint(
        "/mlflow/experiments/delete-experiment-tag",
        _POST,
        delete_experiment_tag,
        quick=True,
    ),
    Endpoint("/mlflow/experiments/search-datasets", _POST, search_datasets),
]
