"""Run endpoints: create, read, update, delete, restore, search, and logging."""

from __future__ import annotations

import functools
from typing import cast

from kiln.entities import Metric, ViewType
from kiln.server.context import ServerContext
from kiln.server.endpoints import MAX_JSON_BODY, Endpoint
from kiln.server.routes.metrics import logged_as_json
from kiln.store.base import SEARCH_RUNS_DEFAULT, RunJsonSearch
from kiln.validation import MAX_DATASET_PROFILE_LENGTH, MAX_DATASET_SCHEMA_LENGTH
from kiln.wire import (
    RUN_STATUSES,
    VIEW_TYPES,
    JSONObject,
    Message,
    compact,
    dataset_input_from_dict,
    logged_model_input_from_dict,
    logged_model_output_from_dict,
    metric_from_dict,
    param_from_dict,
    read_run_id,
    run_info_to_dict,
    run_to_dict,
    tag_from_dict,
)

__all__ = ["ENDPOINTS"]

# The fields of a metric point as clients send it in a batch.
_PLAIN_METRIC_FIELDS = frozenset({"key", "value", "timestamp", "step"})
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# A dataset's schema and profile may each fill their column; log-inputs bodies
# are allowed that much on top of the usual limit.
MAX_LOG_INPUTS_BODY = MAX_JSON_BODY + 2 * (
    MAX_DATASET_PROFILE_LENGTH + MAX_DATASET_SCHEMA_LENGTH
)


def create_run(context: ServerContext, msg: Message) -> JSONObject:
    run = context.store.create_run(
        experiment_id=msg.string("experiment_id") or "0",
        user_id=msg.string("user_id") or "",
        start_time=msg.int64("start_time"),
        tags=[tag_from_dict(tag) for tag in msg.messages("tags")],
        run_name=msg.string("run_name") or None,
    )
    return {"run": run_to_dict(run)}


def get_run(context: ServerContext, msg: Message) -> JSONObject:
    return {"run": run_to_dict(context.store.get_run(read_run_id(msg)))}


def update_run(context: ServerContext, msg: Message) -> JSONObject:
    info = context.store.update_run_info(
        read_run_id(msg),
        run_status=msg.enum("status", RUN_STATUSES),
        end_time=msg.int64("end_time"),
        run_name=msg.string("run_name") or None,
    )
    return {"run_info": run_info_to_dict(info)}


def delete_run(context: ServerContext, msg: Message) -> None:
    context.store.delete_run(read_run_id(msg))


def restore_run(context: ServerContext, msg: Message) -> None:
    context.store.restore_run(read_run_id(msg))


def search_runs(context: ServerContext, msg: Message) -> JSONObject:
    view_type = msg.enum("run_view_type", VIEW_TYPES) or ViewType.ACTIVE_ONLY.name
    max_results = msg.int64("max_results")
    arguments = (
        msg.strings("experiment_ids"),
        msg.string("filter") or "",
        ViewType[view_type],
        SEARCH_RUNS_DEFAULT if max_results is None else max_results,
        msg.strings("order_by"),
        msg.string("page_token") or None,
    )
    store = context.store
    if _searches_json(type(store)):
        page = cast(RunJsonSearch, store).search_runs_json(*arguments)
        return compact({"runs": list(page), "next_page_token": page.token})
    found = store.search_runs(*arguments)
    runs = [run_to_dict(run) for run in found]
    return compact({"runs": runs, "next_page_token": found.token})


@functools.cache
def _searches_json(store_type: type) -> bool:
    # A protocol check walks the class's methods; once per type will do.
    return issubclass(store_type, RunJsonSearch)


def log_metric(context: ServerContext, msg: Message) -> None:
    context.store.log_metric(read_run_id(msg), metric_from_dict(msg))


def log_param(context: ServerContext, msg: Message) -> None:
    context.store.log_param(read_run_id(msg), param_from_dict(msg))


def set_tag(context: ServerContext, msg: Message) -> None:
    context.store.set_tag(read_run_id(msg), tag_from_dict(msg))


def delete_tag(context: ServerContext, msg: Message) -> None:
    context.store.delete_tag(read_run_id(msg), msg.string("key", required=True))


def log_batch(context: ServerContext, msg: Message) -> None:
    run_id = read_run_id(msg)
    if logged_as_json(context, run_id, msg):
        return
    context.store.log_batch(
        run_id,
        metrics=_batch_metrics(msg),
        params=[param_from_dict(p) for p in msg.messages("params")],
        tags=[tag_from_dict(t) for t in msg.messages("tags")],
    )


def _batch_metrics(msg: Message) -> list[Metric]:
    """The batch's metrics; plain points skip the field-by-field reader.

    Reading 1000 points through :class:`Message` costs more than storing
    them, so points sent as clients send them (``key``, a float ``value``,
    integer ``timestamp`` and ``step``) are taken as they are; anything else
    goes through :func:`metric_from_dict` and its checks and messages.
    """
    items = msg.raw("metrics")
    if isinstance(items, list):
        plain = [_plain_metric(item) for item in items]
        if all(metric is not None for metric in plain):
            return cast(list[Metric], plain)
    return [metric_from_dict(m) for m in msg.messages("metrics")]


def _plain_metric(item: object) -> Metric | None:
    if type(item) is not dict or not item.keys() <= _PLAIN_METRIC_FIELDS:
        return None
    key = item.get("key")
    value = item.get("value")
    timestamp = item.get("timestamp")
    step = item.get("step", 0)
    if type(key) is not str or not key or type(value) is not float:
        return None
    if type(timestamp) is not int or type(step) is not int:
        return None
    if not (_INT64_MIN <= timestamp <= _INT64_MAX and _INT64_MIN <= step <= _INT64_MAX):
        return None
    return Metric(key, value, timestamp, step)


def log_inputs(context: ServerContext, msg: Message) -> None:
    context.store.log_inputs(
        read_run_id(msg),
        datasets=[dataset_input_from_dict(d) for d in msg.messages("datasets")],
        models=[logged_model_input_from_dict(m) for m in msg.messages("models")],
    )


def log_model(context: ServerContext, msg: Message) -> None:
    """Record a model logged by a 2.x client in the run's model history tag.

    3.x clients use logged models and ``runs/outputs`` instead.
    """
    model_json = msg.string("model_json", required=True)
    context.store.record_logged_model(read_run_id(msg), model_json)


def log_outputs(context: ServerContext, msg: Message) -> None:
    models = [logged_model_output_from_dict(m) for m in msg.messages("models")]
    context.store.log_outputs(read_run_id(msg), models)


_POST = ("POST",)

ENDPOINTS = [
    Endpoint("/mlflow/runs/create", _POST, create_run, quick=True),
    Endpoint("/mlflow/runs/get", ("GET",), get_run, quick=True),
    Endpoint("/mlflow/runs/update", _POST, update_run, quick=True),
    Endpoint("/mlflow/runs/delete", _POST, delete_run, quick=True),
    Endpoint("/mlflow/runs/restore", _POST, restore_run, quick=True),
    Endpoint("/mlflow/runs/search", _POST, search_runs),
    Endpoint("/mlflow/runs/log-metric", _POST, log_metric, quick=True),
    Endpoint("/mlflow/runs/log-parameter", _POST, log_param, quick=True),
    Endpoint("/mlflow/runs/set-tag", _POST, set_tag, quick=True),
    Endpoint("/mlflow/runs/delete-tag", _POST, delete_tag, quick=True),
    # A batch holds at most 1000 metrics; its writes keep the GIL for most of
    # their time, so a worker thread would let little else run meanwhile.
    Endpoint("/mlflow/runs/log-batch", _POST, log_batch, quick=True),
    Endpoint(
        "/mlflow/runs/log-inputs", _POST, log_inputs, max_body=MAX_LOG_INPUTS_BODY
    ),
    Endpoint("/mlflow/runs/outputs", _POST, log_outputs, quick=True),
    Endpoint("/mlflow/runs/log-model", _POST, log_model, quick=True),
]
