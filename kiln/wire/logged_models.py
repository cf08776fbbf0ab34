"""Logged models on the wire: the model, its status, and search clauses.

MLflow names the statuses ``LOGGED_MODEL_PENDING``, ``LOGGED_MODEL_READY``
and ``LOGGED_MODEL_UPLOAD_FAILED`` (numbers 1 to 3); Kiln's entities use the
short names. A model travels as ``{info, data}``: ``info`` carries the
attributes and tags, ``data`` the params and metrics.
"""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import (
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelParam,
    LoggedModelStatus,
    LoggedModelTag,
)
from kiln.wire.encoding import JSONObject, compact
from kiln.wire.logged import (
    as_message,
    metric_from_dict,
    metric_to_dict,
    tags_from_list,
    tags_to_list,
)
from kiln.wire.message import Message

__all__ = [
    "LOGGED_MODEL_STATUSES",
    "logged_model_dataset_from_dict",
    "logged_model_dataset_to_dict",
    "logged_model_from_dict",
    "logged_model_order_by_from_dict",
    "logged_model_order_by_to_dict",
    "logged_model_params_from_list",
    "logged_model_tags_from_list",
    "logged_model_to_dict",
    "read_logged_model_status",
    "status_to_wire",
]

_WIRE_PREFIX = "LOGGED_MODEL_"

#: MLflow's LoggedModelStatus enum: wire names and numbers.
LOGGED_MODEL_STATUSES: dict[str, int] = {
    _WIRE_PREFIX + LoggedModelStatus.PENDING: 1,
    _WIRE_PREFIX + LoggedModelStatus.READY: 2,
    _WIRE_PREFIX + LoggedModelStatus.UPLOAD_FAILED: 3,
}


def status_to_wire(status: str) -> str:
    """``READY`` → ``LOGGED_MODEL_READY``."""
    return _WIRE_PREFIX + status


def read_logged_model_status(
    msg: Message, field: str = "status", *, required: bool = False
) -> str | None:
    """A status field, by wire name or number, as Kiln's short name."""
    name = msg.enum(field, LOGGED_MODEL_STATUSES, required=required)
    return None if name is None else name.removeprefix(_WIRE_PREFIX)


def logged_model_to_dict(model: LoggedModel) -> JSONObject:
    """A whole model, ``data`` present even when empty as MLflow sends it."""
    info = compact(
        {
            "model_id": model.model_id,
            "experiment_id": model.experiment_id,
            "name": model.name,
            "creation_timestamp_ms": model.creation_timestamp,
            "last_updated_timestamp_ms": model.last_updated_timestamp,
            "artifact_uri": model.artifact_location,
            "status": status_to_wire(model.status),
            "creator_id": model.creator_id,
            "model_type": model.model_type,
            "source_run_id": model.source_run_id,
            "status_message": model.status_message,
            "tags": tags_to_list(model.tags),
        }
    )
    data = compact(
        {
            "params": tags_to_list(model.params),
            "metrics": [metric_to_dict(m) for m in model.metrics],
        }
    )
    return {"info": info, "data": data}


def logged_model_from_dict(source: Mapping[str, object] | Message) -> LoggedModel:
    msg = as_message(source)
    info = msg.message("info", required=True)
    data = msg.message("data") or Message({})
    return LoggedModel(
        model_id=info.string("model_id", required=True),
        experiment_id=info.string("experiment_id", required=True),
        name=info.string("name") or "",
        artifact_location=info.string("artifact_uri") or "",
        creation_timestamp=info.int64("creation_timestamp_ms") or 0,
        last_updated_timestamp=info.int64("last_updated_timestamp_ms") or 0,
        status=read_logged_model_status(info) or LoggedModelStatus.PENDING,
        status_message=info.string("status_message"),
        creator_id=info.int64("creator_id"),
        model_type=info.string("model_type"),
        source_run_id=info.string("source_run_id"),
        tags=tags_from_list(info, "tags"),
        params=tags_from_list(data, "params"),
        metrics=tuple(map(metric_from_dict, data.messages("metrics"))),
    )


def logged_model_tags_from_list(msg: Message) -> list[LoggedModelTag]:
    """The repeated ``tags`` field; an absent value reads as ""."""
    return [
        LoggedModelTag(tag.string("key", required=True), tag.string("value") or "")
        for tag in msg.messages("tags")
    ]


def logged_model_params_from_list(msg: Message) -> list[LoggedModelParam]:
    """The repeated ``params`` field; an absent value reads as ""."""
    return [
        LoggedModelParam(p.string("key", required=True), p.string("value") or "")
        for p in msg.messages("params")
    ]


def logged_model_dataset_to_dict(dataset: LoggedModelDataset) -> JSONObject:
    return compact(
        {
            "dataset_name": dataset.dataset_name,
            "dataset_digest": dataset.dataset_digest,
        }
    )


def logged_model_dataset_from_dict(
    source: Mapping[str, object] | Message,
) -> LoggedModelDataset:
    msg = as_message(source)
    return LoggedModelDataset(
        msg.string("dataset_name", required=True),
        msg.string("dataset_digest") or None,
    )


def logged_model_order_by_to_dict(clause: LoggedModelOrderBy) -> JSONObject:
    return compact(
        {
            "field_name": clause.field_name,
            "ascending": clause.ascending,
            "dataset_name": clause.dataset_name,
            "dataset_digest": clause.dataset_digest,
        }
    )


def logged_model_order_by_from_dict(
    source: Mapping[str, object] | Message,
) -> LoggedModelOrderBy:
    """An order_by clause; ``ascending`` defaults to true as in MLflow's client."""
    msg = as_message(source)
    ascending = msg.boolean("ascending")
    return LoggedModelOrderBy(
        field_name=msg.string("field_name", required=True),
        ascending=True if ascending is None else ascending,
        dataset_name=msg.string("dataset_name") or None,
        dataset_digest=msg.string("dataset_digest") or None,
    )
