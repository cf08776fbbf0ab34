"""Experiments on the wire."""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import Experiment, LifecycleStage, ViewType
from kiln.wire.encoding import JSONObject, compact
from kiln.wire.logged import as_message, tags_from_list, tags_to_list
from kiln.wire.message import Message

__all__ = ["VIEW_TYPES", "experiment_from_dict", "experiment_to_dict"]

# ViewType's members by the names and numbers of MLflow's enum.
VIEW_TYPES: dict[str, int] = {member.name: member.value for member in ViewType}


def experiment_to_dict(experiment: Experiment) -> JSONObject:
    """An experiment with its tags as a list of ``{key, value}``."""
    return compact(
        {
            "experiment_id": experiment.experiment_id,
            "name": experiment.name,
            "artifact_location": experiment.artifact_location,
            "lifecycle_stage": experiment.lifecycle_stage,
            "last_update_time": experiment.last_update_time,
            "creation_time": experiment.creation_time,
            "tags": tags_to_list(experiment.tags),
        }
    )


def experiment_from_dict(source: Mapping[str, object] | Message) -> Experiment:
    """Read an experiment; id and name are required."""
    msg = as_message(source)
    return Experiment(
        experiment_id=msg.string("experiment_id", required=True),
        name=msg.string("name", required=True),
        artifact_location=msg.string("artifact_location") or "",
        lifecycle_stage=msg.string("lifecycle_stage") or LifecycleStage.ACTIVE,
        creation_time=msg.int64("creation_time"),
        last_update_time=msg.int64("last_update_time"),
        tags=tags_from_list(msg),
    )
