from __future__ import annotations

import json
import math
import subprocess

import pytest

import kiln.wire
import kiln.wire.logged_models
from kiln.entities import (
    LoggedModel,
    LoggedModelDataset,
    LoggedModelOrderBy,
    LoggedModelStatus,
    Metric,
)
from kiln.errors import InvalidParameterValue
from kiln.wire import (
    Message,
    dumps,
    logged_model_dataset_from_dict,
    logged_model_dataset_to_dict,
    logged_model_from_dict,
    logged_model_order_by_from_dict,
    logged_model_order_by_to_dict,
    logged_model_to_dict,
    read_logged_model_status,
)

MODEL = LoggedModel(
    model_id="m-" + "a" * 32,
    experiment_id="3",
    name="model",
    artifact_location="mlflow-artifacts:/3/models/m-x/artifacts",
    creation_timestamp=10,
    last_updated_timestamp=20,
    status=LoggedModelStatus.READY,
    status_message="done",
    creator_id=7,
    model_type="sklearn",
    source_run_id="b" * 32,
    tags={"t": "1"},
    params={"p": "2"},
    metrics=(
        Metric("acc", 0.5, 5, 1, run_id="b" * 32, model_id="m-" + "a" * 32),
        Metric(
            "loss",
            math.inf,
            6,
            1,
            run_id="b" * 32,
            dataset_name="d",
            dataset_digest="x",
        ),
    ),
)


def test_package_reexports_the_logged_model_names() -> None:
    assert set(kiln.wire.logged_models.__all__) <= set(kiln.wire.__all__)


def test_logged_model_round_trips() -> None:
    encoded = json.loads(dumps(logged_model_to_dict(MODEL)))
    assert encoded["info"]["status"] == "LOGGED_MODEL_READY"
    assert encoded["info"]["artifact_uri"] == MODEL.artifact_location
    assert encoded["data"]["metrics"][1]["value"] == "Infinity"
    decoded = logged_model_from_dict(encoded)
    assert decoded == MODEL


def test_empty_model_sends_empty_data() -> None:
    bare = LoggedModel("m-1", "0", "n", "loc", 1, 1)
    encoded = logged_model_to_dict(bare)
    assert encoded["data"] == {}
    assert "tags" not in encoded["info"]
    assert logged_model_from_dict(encoded) == bare


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("LOGGED_MODEL_PENDING", "PENDING"),
        (2, "READY"),
        ("3", "UPLOAD_FAILED"),
        (None, None),
    ],
)
def test_status_reads_names_and_numbers(sent: object, expected: str | None) -> None:
    assert read_logged_model_status(Message({"status": sent})) == expected


def test_unknown_status_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="LOGGED_MODEL_READY"):
        read_logged_model_status(Message({"status": "READY"}))


def test_search_clauses_round_trip() -> None:
    clause = LoggedModelOrderBy("metrics.acc", False, "eval", "abc")
    assert logged_model_order_by_from_dict(logged_model_order_by_to_dict(clause)) == (
        clause
    )
    assert logged_model_order_by_from_dict({"field_name": "name"}).ascending is True
    dataset = LoggedModelDataset("eval")
    assert logged_model_dataset_to_dict(dataset) == {"dataset_name": "eval"}
    assert logged_model_dataset_from_dict({"datasetName": "eval"}) == dataset


_PARSE = """
import sys, json
from google.protobuf import json_format
from mlflow.protos.service_pb2 import GetLoggedModel
from mlflow.entities import LoggedModel
proto = json_format.Parse(sys.argv[1], GetLoggedModel.Response())
model = LoggedModel.from_proto(proto.model)
print(json.dumps({
    "model_id": model.model_id, "status": str(model.status),
    "artifact_location": model.artifact_location, "tags": model.tags,
    "params": model.params, "metrics": [m.key for m in model.metrics],
    "source_run_id": model.source_run_id,
}))
"""


@pytest.mark.slow
def test_stock_client_reads_logged_models_written_by_kiln(mlflow_python: str) -> None:
    body = dumps({"model": logged_model_to_dict(MODEL)}).decode()
    result = subprocess.run(
        [mlflow_python, "-c", _PARSE, body],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parsed = json.loads(result.stdout.strip().splitlines()[-1])
    assert parsed["model_id"] == MODEL.model_id
    assert parsed["status"].endswith("READY")
    assert parsed["artifact_location"] == MODEL.artifact_location
    assert (parsed["tags"], parsed["params"]) == (MODEL.tags, MODEL.params)
    assert parsed["metrics"] == ["acc", "loss"]
    assert parsed["source_run_id"] == MODEL.source_run_id
