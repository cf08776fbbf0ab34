"""Datasets used by runs, and the summaries the UI lists, on the wire."""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import Dataset, DatasetInput, DatasetSummary, InputTag
from kiln.wire.encoding import JSONObject, compact
from kiln.wire.logged import as_message, tag_to_dict
from kiln.wire.message import Message

__all__ = [
    "dataset_from_dict",
    "dataset_input_from_dict",
    "dataset_input_to_dict",
    "dataset_summary_from_dict",
    "dataset_summary_to_dict",
    "dataset_to_dict",
]


def dataset_to_dict(dataset: Dataset) -> JSONObject:
    return compact(
        {
            "name": dataset.name,
            "digest": dataset.digest,
            "source_type": dataset.source_type,
            "source": dataset.source,
            "schema": dataset.schema,
            "profile": dataset.profile,
        }
    )


def dataset_from_dict(source: Mapping[str, object] | Message) -> Dataset:
    """Read a dataset; name, digest, source type and source are required."""
    msg = as_message(source)
    return Dataset(
        name=msg.string("name", required=True),
        digest=msg.string("digest", required=True),
        source_type=msg.string("source_type", required=True),
        source=msg.string("source", required=True),
        schema=msg.string("schema"),
        profile=msg.string("profile"),
    )


def dataset_input_to_dict(dataset_input: DatasetInput) -> JSONObject:
    return compact(
        {
            "tags": [tag_to_dict(tag) for tag in dataset_input.tags],
            "dataset": dataset_to_dict(dataset_input.dataset),
        }
    )


def dataset_input_from_dict(source: Mapping[str, object] | Message) -> DatasetInput:
    """Read one entry of LogInputs' ``datasets`` (or RunInputs' ``dataset_inputs``)."""
    msg = as_message(source)
    tags = tuple(
        InputTag(tag.string("key", required=True), tag.string("value") or "")
        for tag in msg.messages("tags")
    )
    dataset = dataset_from_dict(msg.message("dataset", required=True))
    return DatasetInput(dataset=dataset, tags=tags)


def dataset_summary_to_dict(summary: DatasetSummary) -> JSONObject:
    return compact(
        {
            "experiment_id": summary.experiment_id,
            "name": summary.name,
            "digest": summary.digest,
            "context": summary.context,
        }
    )


def dataset_summary_from_dict(source: Mapping[str, object] | Message) -> DatasetSummary:
    msg = as_message(source)
    return DatasetSummary(
        experiment_id=msg.string("experiment_id", required=True),
        name=msg.string("name", required=True),
        digest=msg.string("digest", required=True),
        context=msg.string("context"),
    )
