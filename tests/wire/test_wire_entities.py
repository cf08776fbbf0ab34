from __future__ import annotations

import math

import pytest

from kiln.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    Experiment,
    FileInfo,
    InputTag,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunTag,
)
from kiln.errors import InvalidParameterValue
from kiln.wire import (
    dataset_summary_from_dict,
    dataset_summary_to_dict,
    dumps,
    experiment_from_dict,
    experiment_to_dict,
    file_info_from_dict,
    file_info_to_dict,
    loads,
    metric_from_dict,
    metric_to_dict,
    param_from_dict,
    param_to_dict,
    run_from_dict,
    run_info_to_dict,
    run_to_dict,
    tag_from_dict,
    tag_to_dict,
)

RUN_ID = "0123456789abcdef0123456789abcdef"

EXPERIMENT = Experiment(
    experiment_id="4",
    name="fraud",
    artifact_location="s3://bucket/4",
    lifecycle_stage="deleted",
    creation_time=1700000000000,
    last_update_time=1700000000500,
    tags={"team": "risk", "note": ""},
)

DATASET_INPUT = DatasetInput(
    dataset=Dataset(
        name="train",
        digest="abc123",
        source_type="local",
        source='{"uri": "/data/train.csv"}',
        schema='{"mlflow_colspec": []}',
        profile='{"num_rows": 10}',
    ),
    tags=(InputTag("mlflow.data.context", "training"),),
)

FULL_RUN = Run(
    info=RunInfo(
        run_id=RUN_ID,
        experiment_id="4",
        run_name="brave-owl-12",
        user_id="ada",
        status="FINISHED",
        start_time=1700000000000,
        end_time=1700000009000,
        artifact_uri="s3://bucket/4/run/artifacts",
        lifecycle_stage="active",
    ),
    data=RunData(
        latest_metrics=(
            Metric("loss", 0.25, 1700000001000, 7),
            Metric("acc", math.inf, 1700000001000, 0, model_id="m-1"),
        ),
        params={"lr": "0.1"},
        tags={"mlflow.runName": "brave-owl-12"},
    ),
    inputs=RunInputs(
        dataset_inputs=(DATASET_INPUT,), model_inputs=(LoggedModelInput("m-1"),)
    ),
    outputs=RunOutputs(model_outputs=(LoggedModelOutput("m-2", 3),)),
)


def _through_json(payload: object) -> object:
    return loads(dumps(payload))


def test_experiment_round_trips_through_json() -> None:
    wire = _through_json(experiment_to_dict(EXPERIMENT))
    assert isinstance(wire, dict)
    assert wire["tags"] == [
        {"key": "team", "value": "risk"},
        {"key": "note", "value": ""},
    ]
    assert experiment_from_dict(wire) == EXPERIMENT


def test_experiment_leaves_out_unset_times_and_empty_tags() -> None:
    bare = Experiment("0", "Default", "/tmp/a")
    assert experiment_to_dict(bare) == {
        "experiment_id": "0",
        "name": "Default",
        "artifact_location": "/tmp/a",
        "lifecycle_stage": "active",
    }


def test_run_round_trips_through_json() -> None:
    wire = _through_json(run_to_dict(FULL_RUN))
    assert isinstance(wire, dict)
    assert run_from_dict(wire) == FULL_RUN


def test_run_info_carries_both_id_names() -> None:
    wire = run_info_to_dict(FULL_RUN.info)
    assert wire["run_id"] == wire["run_uuid"] == RUN_ID


def test_a_bare_run_keeps_empty_sections_and_drops_unset_fields() -> None:
    info = RunInfo(RUN_ID, "0", "", "", "RUNNING", 5, None, "/a", "active")
    wire = run_to_dict(Run(info))
    assert wire["data"] == {} and wire["inputs"] == {} and wire["outputs"] == {}
    assert "end_time" not in wire["info"]
    assert wire["info"]["user_id"] == ""


def test_run_json_shape_matches_mlflow() -> None:
    wire = _through_json(run_to_dict(FULL_RUN))
    assert isinstance(wire, dict)
    assert wire["data"]["metrics"][1] == {
        "key": "acc",
        "value": "Infinity",
        "timestamp": 1700000001000,
        "step": 0,
        "model_id": "m-1",
    }
    assert wire["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert wire["inputs"]["dataset_inputs"][0]["tags"] == [
        {"key": "mlflow.data.context", "value": "training"}
    ]
    assert wire["inputs"]["model_inputs"] == [{"model_id": "m-1"}]
    assert wire["outputs"] == {"model_outputs": [{"model_id": "m-2", "step": 3}]}


@pytest.mark.parametrize(
    ("value", "wire_value"),
    [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"), (2.5, 2.5)],
)
def test_metric_values_survive_json(value: float, wire_value: object) -> None:
    metric = Metric("m", value, 10, 2)
    wire = _through_json(metric_to_dict(metric))
    assert isinstance(wire, dict)
    assert wire["value"] == wire_value
    back = metric_from_dict(wire)
    if math.isnan(value):
        assert math.isnan(back.value)
    else:
        assert back == metric


def test_metric_reads_camel_case_and_string_int64() -> None:
    wire = {"key": "m", "value": "1.5", "timestamp": "17", "step": "3", "runId": "r"}
    assert metric_from_dict(wire) == Metric("m", 1.5, 17, 3, run_id="r")


def test_metric_without_step_is_at_step_zero() -> None:
    assert metric_from_dict({"key": "m", "value": 1, "timestamp": 2}).step == 0


@pytest.mark.parametrize("missing", ["key", "value", "timestamp"])
def test_metric_requires_key_value_and_timestamp(missing: str) -> None:
    wire: dict[str, object] = {"key": "m", "value": 1.0, "timestamp": 2}
    del wire[missing]
    with pytest.raises(InvalidParameterValue, match=f"'{missing}'"):
        metric_from_dict(wire)


def test_params_and_tags_round_trip() -> None:
    assert param_from_dict(param_to_dict(Param("a", "1"))) == Param("a", "1")
    assert tag_from_dict(tag_to_dict(RunTag("a", ""))) == RunTag("a", "")
    assert tag_from_dict({"key": "a"}) == RunTag("a", "")


def test_dataset_summary_round_trips_and_omits_missing_context() -> None:
    summary = DatasetSummary("1", "train", "abc")
    assert dataset_summary_to_dict(summary) == {
        "experiment_id": "1",
        "name": "train",
        "digest": "abc",
    }
    assert dataset_summary_from_dict(dataset_summary_to_dict(summary)) == summary


@pytest.mark.parametrize(
    ("info", "wire"),
    [
        (FileInfo("a/b.txt", False, 12), {"path": "a/b.txt", "is_dir": False,
                                          "file_size": 12}),
        (FileInfo("a", True), {"path": "a", "is_dir": True}),
    ],
)  # fmt: skip
def test_file_info_omits_size_of_folders(
    info: FileInfo, wire: dict[str, object]
) -> None:
    assert file_info_to_dict(info) == wire
    assert file_info_from_dict(wire) == info


def test_run_info_reads_camel_case_numbers_and_status_numbers() -> None:
    wire = {
        "info": {
            "runUuid": RUN_ID,
            "experimentId": "4",
            "status": 3,
            "startTime": "1700000000000",
            "lifecycleStage": "active",
        }
    }
    run = run_from_dict(wire)
    assert run.info.run_id == RUN_ID
    assert run.info.status == "FINISHED"
    assert run.info.start_time == 1700000000000
    assert run.data == RunData()
