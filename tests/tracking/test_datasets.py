from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import kiln
from kiln.entities import Dataset
from kiln.errors import InvalidParameterValue
from kiln.tracking.client import KilnClient


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "a": [1, 2],
            "b": [1.5, 2.5],
            "s": ["x", "y"],
            "f": [True, False],
        }
    )


def test_from_pandas_describes_the_frame(tmp_path: Path) -> None:
    dataset = kiln.data.from_pandas(_frame(), source="data/train.csv", targets="b")
    assert dataset.name == "dataset"
    assert dataset.targets == "b"
    assert dataset.source_type == "local"
    assert json.loads(dataset.source) == {"uri": str(tmp_path / "data" / "train.csv")}
    assert json.loads(dataset.schema) == {
        "mlflow_colspec": [
            {"type": "long", "name": "a", "required": True},
            {"type": "double", "name": "b", "required": True},
            {"type": "string", "name": "s", "required": True},
            {"type": "boolean", "name": "f", "required": True},
        ]
    }
    assert json.loads(dataset.profile) == {"num_rows": 2, "num_elements": 8}
    assert 0 < len(dataset.digest) <= 36


def test_digest_is_stable_and_follows_content() -> None:
    digest = kiln.data.from_pandas(_frame()).digest
    assert kiln.data.from_pandas(_frame()).digest == digest
    changed = _frame()
    changed.loc[1, "b"] = 9.0
    assert kiln.data.from_pandas(changed).digest != digest
    renamed = _frame().rename(columns={"a": "z"})
    assert kiln.data.from_pandas(renamed).digest != digest
    reindexed = _frame().set_axis([10, 11])
    assert kiln.data.from_pandas(reindexed).digest == digest


def test_digest_of_unhashable_cells() -> None:
    df = pd.DataFrame({"tokens": [["a", "b"], ["c"]]})
    assert kiln.data.from_pandas(df).digest == kiln.data.from_pandas(df.copy()).digest


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([1, 2], dtype="int32"), "integer"),
        (pd.Series([1, 2], dtype="int64"), "long"),
        (pd.Series([1.0], dtype="float32"), "float"),
        (pd.Series(pd.to_datetime(["2024-01-01"])), "datetime"),
        (pd.Series([b"x"], dtype=object), "binary"),
        (pd.Series(["a", "b"], dtype="category"), "string"),
        (pd.Series([1, "a"], dtype=object), "any"),
    ],
)
def test_column_types(values: pd.Series, expected: str) -> None:
    schema = json.loads(kiln.data.from_pandas(values.to_frame("c")).schema)
    assert schema["mlflow_colspec"][0]["type"] == expected


def test_column_with_nulls_is_optional() -> None:
    df = pd.DataFrame({"x": [1.0, None]})
    (spec,) = json.loads(kiln.data.from_pandas(df).schema)["mlflow_colspec"]
    assert spec["required"] is False


def test_missing_targets_column_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="'label'"):
        kiln.data.from_pandas(_frame(), targets="label")


@pytest.mark.parametrize(
    ("source", "source_type", "document"),
    [
        ("https://data.example/x.csv", "http", {"url": "https://data.example/x.csv"}),
        ("s3://bucket/x.parquet", "s3", {"uri": "s3://bucket/x.parquet"}),
        ("file:///srv/x.csv", "local", {"uri": "file:///srv/x.csv"}),
    ],
)
def test_sources(source: str, source_type: str, document: dict[str, str]) -> None:
    dataset = kiln.data.from_pandas(_frame(), source=source)
    assert (dataset.source_type, json.loads(dataset.source)) == (source_type, document)


def test_data_built_in_code_names_the_program() -> None:
    dataset = kiln.data.from_pandas(_frame(), name="inline")
    assert dataset.source_type == "code"
    tags = json.loads(dataset.source)["tags"]
    assert set(tags) == {"mlflow.user", "mlflow.source.name", "mlflow.source.type"}


def test_from_numpy() -> None:
    features = np.zeros((3, 2), dtype="float32")
    targets = np.array([1, 2, 3], dtype="int64")
    dataset = kiln.data.from_numpy(features, targets=targets, name="arrays")
    schema = json.loads(dataset.schema)["mlflow_tensorspec"]
    assert json.loads(schema["features"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}
    ]
    assert json.loads(schema["targets"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}
    ]
    profile = json.loads(dataset.profile)
    assert (profile["num_rows"], profile["num_elements"]) == (3, 6)
    assert profile["features_shape"] == [3, 2]
    assert profile["targets_nbytes"] == 24
    assert dataset.digest != kiln.data.from_numpy(features).digest
    assert (
        dataset.digest == kiln.data.from_numpy(features.copy(), targets=targets).digest
    )


def test_numpy_object_arrays_digest_by_value() -> None:
    first = np.array(["a", {"k": 1}], dtype=object)
    second = np.array(["a", {"k": 1}], dtype=object)
    assert kiln.data.from_numpy(first).digest == kiln.data.from_numpy(second).digest


def test_log_input_records_dataset_and_context(client: KilnClient) -> None:
    dataset = kiln.data.from_pandas(_frame(), source="train.csv", name="train")
    with kiln.start_run() as run:
        kiln.log_input(dataset, context="training", tags={"split": "a"})
        kiln.log_input(dataset.to_entity(), context="eval")
    (logged,) = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert logged.dataset == dataset.to_entity()
    tags = {tag.key: tag.value for tag in logged.tags}
    assert tags["mlflow.data.context"] in ("training", "eval")


def test_log_input_refuses_other_objects() -> None:
    with kiln.start_run(), pytest.raises(InvalidParameterValue, match="'dict'"):
        kiln.log_input({"name": "x"})


def test_client_log_inputs(client: KilnClient) -> None:
    from kiln.entities import DatasetInput, InputTag

    run_id = client.create_run("0").info.run_id
    entity = Dataset("d", "abc", "code", "{}")
    client.log_inputs(run_id, [DatasetInput(entity, (InputTag("k", "v"),))])
    (logged,) = client.get_run(run_id).inputs.dataset_inputs
    assert logged.dataset.name == "d"
