"""Metric history endpoints: one run's full history, and sampled series of many."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import cast

from kiln.entities import Metric
from kiln.errors import InvalidParameterValue
from kiln.server.context import ServerContext
from kiln.server.endpoints import Endpoint
from kiln.store.base import (
    METRIC_HISTORY_BULK_MAX_RESULTS,
    METRIC_HISTORY_BULK_MAX_RUNS,
    MetricBatchJson,
    MetricHistoryJson,
)
from kiln.validation import validate_max_results
from kiln.wire import JSONObject, Message, compact, metric_to_dict, read_run_id

__all__ = ["ENDPOINTS"]

# The older bulk call's cap on points per run (MLflow's).
_BULK_MAX_POINTS = 25_000


def get_metric_history(context: ServerContext, msg: Message) -> JSONObject:
    # An absent max_results means every point (MLflow's clients send 25000 and
    # page on; a missing value must never read as 0). As MLflow's server does,
    # the points leave out the run id the request named.
    arguments = (
        read_run_id(msg),
        msg.string("metric_key", required=True),
        msg.int64("max_results"),
        msg.string("page_token") or None,
    )
    store = context.store
    if _history_as_json(type(store)):
        page = cast(MetricHistoryJson, store).get_metric_history_json(*arguments)
        return compact({"metrics": list(page), "next_page_token": page.token})
    found = store.get_metric_history(*arguments)
    points = [metric_to_dict(replace(point, run_id=None)) for point in found]
    return compact({"metrics": points, "next_page_token": found.token})


@functools.cache
def _history_as_json(store_type: type) -> bool:
    # A protocol check walks the class's methods; once per type will do.
    return issubclass(store_type, MetricHistoryJson)


def logged_as_json(context: ServerContext, run_id: str, msg: Message) -> bool:
    """Log a ``runs/log-batch`` request's points straight from its JSON if
    the store can (see :class:`~kiln.store.base.MetricBatchJson`) and the
    request holds plain points only; False when it must take the long way."""
    store = context.store
    if msg.raw("params") or msg.raw("tags") or not _batch_as_json(type(store)):
        return False
    return cast(MetricBatchJson, store).log_metrics_json(run_id, msg.raw("metrics"))


@functools.cache
def _batch_as_json(store_type: type) -> bool:
    return issubclass(store_type, MetricBatchJson)


def get_metric_history_bulk_interval(
    context: ServerContext, msg: Message
) -> JSONObject:
    max_results = msg.int64("max_results")
    metrics = context.store.get_metric_history_bulk_interval(
        msg.strings("run_ids"),
        msg.string("metric_key", required=True),
        max_results=(
            METRIC_HISTORY_BULK_MAX_RESULTS if max_results is None else max_results
        ),
        start_step=msg.int64("start_step"),
        end_step=msg.int64("end_step"),
    )
    return compact({"metrics": list(map(metric_to_dict, metrics))})


def get_metric_history_bulk(context: ServerContext, msg: Message) -> JSONObject:
    """The UI's older chart call: full histories of one key for several runs."""
    run_ids = msg.strings("run_id")
    if not run_ids:
        raise InvalidParameterValue("Missing value for required parameter 'run_id'.")
    if len(run_ids) > METRIC_HISTORY_BULK_MAX_RUNS:
        raise InvalidParameterValue(
            f"At most {METRIC_HISTORY_BULK_MAX_RUNS} runs may be charted at once, "
            f"got {len(run_ids)}."
        )
    key = msg.string("metric_key", required=True)
    max_results = validate_max_results(
        msg.int64("max_results") or _BULK_MAX_POINTS,
        _BULK_MAX_POINTS,
        "metric histories",
    )
    metrics: list[Metric] = []
    for run_id in run_ids:
        history = context.store.get_metric_history(run_id, key, max_results)
        metrics.extend(replace(point, run_id=run_id) for point in history)
    return compact({"metrics": list(map(metric_to_dict, metrics))})


ENDPOINTS = [
    Endpoint("/mlflow/metrics/get-history", ("GET",), get_metric_history),
    Endpoint(
        "/mlflow/metrics/get-history-bulk-interval",
        ("GET",),
        get_metric_history_bulk_interval,
    ),
    Endpoint("/mlflow/metrics/get-history-bulk", ("GET",), get_metric_history_bulk),
]
