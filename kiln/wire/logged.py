"""Metrics, params and tags: what is logged to a run, on the wire."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import isfinite

from kiln.entities import InputTag, Metric, Param, RunTag
from kiln.wire.encoding import JSONObject, compact, encode_double
from kiln.wire.message import Message

__all__ = [
    "as_message",
    "metric_from_dict",
    "metric_to_dict",
    "param_from_dict",
    "param_to_dict",
    "tag_from_dict",
    "tag_to_dict",
    "tags_from_list",
    "tags_to_list",
]


def as_message(source: Mapping[str, object] | Message) -> Message:
    """Wrap a decoded JSON object in a Message (a Message passes through)."""
    return source if isinstance(source, Message) else Message(source)


def metric_to_dict(metric: Metric) -> JSONObject:
    """A metric point; NaN and ±inf become "NaN", "Infinity", "-Infinity"."""
    value = metric.value
    if (
        metric.model_id is None
        and metric.dataset_name is None
        and metric.dataset_digest is None
    ):
        # The usual point, written directly: histories hold many thousands.
        point: JSONObject = {
            "key": metric.key,
            "value": (
                value
                if type(value) is float and isfinite(value)
                else encode_double(value)
            ),
            "timestamp": metric.timestamp,
            "step": metric.step,
        }
        if metric.run_id is not None:
            point["run_id"] = metric.run_id
        return point
    return compact(
        {
            "key": metric.key,
            "value": encode_double(metric.value),
            "timestamp": metric.timestamp,
            "step": metric.step,
            "dataset_name": metric.dataset_name,
            "dataset_digest": metric.dataset_digest,
            "model_id": metric.model_id,
            "run_id": metric.run_id,
        }
    )


def metric_from_dict(
    source: Mapping[str, object] | Message, run_id: str | None = None
) -> Metric:
    """Read a metric point; key, value and timestamp are required, step is 0
    when absent. ``run_id`` stands in for a point that names no run (as in a
    history, where the request named it)."""
    msg = as_message(source)
    return Metric(
        key=msg.string("key", required=True),
        value=msg.double("value", required=True),
        timestamp=msg.int64("timestamp", required=True),
        step=msg.int64("step") or 0,
        run_id=msg.string("run_id") or run_id,
        model_id=msg.string("model_id"),
        dataset_name=msg.string("dataset_name"),
        dataset_digest=msg.string("dataset_digest"),
    )


def param_to_dict(param: Param) -> JSONObject:
    return {"key": param.key, "value": param.value}


def param_from_dict(source: Mapping[str, object] | Message) -> Param:
    """Read a param; an absent value reads as the empty string."""
    msg = as_message(source)
    return Param(msg.string("key", required=True), msg.string("value") or "")


def tag_to_dict(tag: RunTag | InputTag) -> JSONObject:
    return {"key": tag.key, "value": tag.value}


def tag_from_dict(source: Mapping[str, object] | Message) -> RunTag:
    """Read a run or experiment tag; an absent value reads as the empty string."""
    msg = as_message(source)
    return RunTag(msg.string("key", required=True), msg.string("value") or "")


def tags_to_list(tags: Mapping[str, str] | Iterable[RunTag]) -> list[JSONObject]:
    """Tags as MLflow sends them: a list of ``{key, value}`` objects."""
    if isinstance(tags, Mapping):
        return [{"key": k, "value": v} for k, v in tags.items()]
    return [tag_to_dict(tag) for tag in tags]


def tags_from_list(msg: Message, field: str = "tags") -> dict[str, str]:
    """Read a repeated ``{key, value}`` field into a dict (last value wins)."""
    return {tag.key: tag.value for tag in map(tag_from_dict, msg.messages(field))}
