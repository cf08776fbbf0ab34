"""Runs on the wire: info, data, inputs and outputs."""

from __future__ import annotations

from collections.abc import Mapping

from kiln.entities import (
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from kiln.errors import InvalidParameterValue
from kiln.wire.datasets import dataset_input_from_dict, dataset_input_to_dict
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
    "RUN_STATUSES",
    "logged_model_input_from_dict",
    "logged_model_input_to_dict",
    "logged_model_output_from_dict",
    "logged_model_output_to_dict",
    "read_run_id",
    "run_data_from_dict",
    "run_data_to_dict",
    "run_from_dict",
    "run_info_from_dict",
    "run_info_to_dict",
    "run_inputs_from_dict",
    "run_inputs_to_dict",
    "run_outputs_from_dict",
    "run_outputs_to_dict",
    "run_to_dict",
]

# MLflow's RunStatus enum: names and numbers.
RUN_STATUSES: dict[str, int] = {
    RunStatus.RUNNING: 1,
    RunStatus.SCHEDULED: 2,
    RunStatus.FINISHED: 3,
    RunStatus.FAILED: 4,
    RunStatus.KILLED: 5,
}


def read_run_id(msg: Message) -> str:
    """The run a request is about: ``run_id``, or the older ``run_uuid``.

    Clients send both; when they disagree the request is refused.
    """
    run_id = msg.string("run_id")
    run_uuid = msg.string("run_uuid")
    if run_id and run_uuid and run_id != run_uuid:
        raise InvalidParameterValue(
            f"The request names two runs, run_id {run_id!r} and run_uuid "
            f"{run_uuid!r}; send one run id."
        )
    if not (run_id or run_uuid):
        return msg.string("run_id", required=True)
    return run_id or run_uuid or ""


def run_info_to_dict(info: RunInfo) -> JSONObject:
    """A run's attributes, carrying the id as both ``run_id`` and ``run_uuid``."""
    return compact(
        {
            "run_id": info.run_id,
            "run_uuid": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "artifact_uri": info.artifact_uri,
            "lifecycle_stage": info.lifecycle_stage,
        }
    )


def run_info_from_dict(source: Mapping[str, object] | Message) -> RunInfo:
    msg = as_message(source)
    return RunInfo(
        run_id=read_run_id(msg),
        experiment_id=msg.string("experiment_id", required=True),
        run_name=msg.string("run_name") or "",
        user_id=msg.string("user_id") or "",
        status=msg.enum("status", RUN_STATUSES) or RunStatus.RUNNING,
        start_time=msg.int64("start_time"),
        end_time=msg.int64("end_time"),
        artifact_uri=msg.string("artifact_uri") or "",
        lifecycle_stage=msg.string("lifecycle_stage") or LifecycleStage.ACTIVE,
    )


def run_data_to_dict(data: RunData) -> JSONObject:
    """The latest value of each metric, the params and the tags."""
    return compact(
        {
            "metrics": [metric_to_dict(m) for m in data.latest_metrics],
            "params": tags_to_list(data.params),
            "tags": tags_to_list(data.tags),
        }
    )


def run_data_from_dict(source: Mapping[str, object] | Message) -> RunData:
    msg = as_message(source)
    return RunData(
        latest_metrics=tuple(map(metric_from_dict, msg.messages("metrics"))),
        params=tags_from_list(msg, "params"),
        tags=tags_from_list(msg, "tags"),
    )


def logged_model_input_to_dict(model: LoggedModelInput) -> JSONObject:
    return {"model_id": model.model_id}


def logged_model_input_from_dict(
    source: Mapping[str, object] | Message,
) -> LoggedModelInput:
    return LoggedModelInput(as_message(source).string("model_id", required=True))


def logged_model_output_to_dict(model: LoggedModelOutput) -> JSONObject:
    return {"model_id": model.model_id, "step": model.step}


def logged_model_output_from_dict(
    source: Mapping[str, object] | Message,
) -> LoggedModelOutput:
    msg = as_message(source)
    return LoggedModelOutput(
        msg.string("model_id", required=True), msg.int64("step") or 0
    )


def run_inputs_to_dict(inputs: RunInputs) -> JSONObject:
    return compact(
        {
            "dataset_inputs": list(map(dataset_input_to_dict, inputs.dataset_inputs)),
            "model_inputs": list(map(logged_model_input_to_dict, inputs.model_inputs)),
        }
    )


def run_inputs_from_dict(source: Mapping[str, object] | Message) -> RunInputs:
    msg = as_message(source)
    return RunInputs(
        dataset_inputs=tuple(
            map(dataset_input_from_dict, msg.messages("dataset_inputs"))
        ),
        model_inputs=tuple(
            map(logged_model_input_from_dict, msg.messages("model_inputs"))
        ),
    )


def run_outputs_to_dict(outputs: RunOutputs) -> JSONObject:
    return compact(
        {"model_outputs": list(map(logged_model_output_to_dict, outputs.model_outputs))}
    )


def run_outputs_from_dict(source: Mapping[str, object] | Message) -> RunOutputs:
    msg = as_message(source)
    return RunOutputs(
        tuple(map(logged_model_output_from_dict, msg.messages("model_outputs")))
    )


def run_to_dict(run: Run) -> JSONObject:
    """A whole run. ``data``, ``inputs`` and ``outputs`` are always present,
    possibly as ``{}``, as MLflow's server sends them."""
    return {
        "info": run_info_to_dict(run.info),
        "data": run_data_to_dict(run.data),
        "inputs": run_inputs_to_dict(run.inputs),
        "outputs": run_outputs_to_dict(run.outputs),
    }


def run_from_dict(source: Mapping[str, object] | Message) -> Run:
    msg = as_message(source)
    data = msg.message("data")
    inputs = msg.message("inputs")
    outputs = msg.message("outputs")
    return Run(
        info=run_info_from_dict(msg.message("info", required=True)),
        data=run_data_from_dict(data) if data is not None else RunData(),
        inputs=run_inputs_from_dict(inputs) if inputs is not None else RunInputs(),
        outputs=run_outputs_from_dict(outputs) if outputs is not None else RunOutputs(),
    )
