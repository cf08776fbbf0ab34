from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kiln.errors import InvalidParameterValue
from kiln.models import (
    AnyType,
    Array,
    ColSpec,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
    infer_signature,
)
from kiln.models.signature import infer_output_schema, infer_schema


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        (
            pd.DataFrame({"a": [1.0], "b": [1], "c": ["x"], "d": [True]}),
            [
                ColSpec("double", "a"),
                ColSpec("long", "b"),
                ColSpec("string", "c"),
                ColSpec("boolean", "d"),
            ],
        ),
        (
            pd.DataFrame({"f": np.array([1.5], dtype=np.float32)}),
            [ColSpec("float", "f")],
        ),
        (
            pd.DataFrame({"i": np.array([1], dtype=np.int32)}),
            [ColSpec("integer", "i")],
        ),
        (pd.DataFrame({"a": [1.0, None]}), [ColSpec("double", "a", required=False)]),
        (
            pd.DataFrame({"t": pd.to_datetime(["2024-01-01"])}),
            [ColSpec("datetime", "t")],
        ),
        (
            {"a": [1, 2], "b": ["x", "y"]},
            [ColSpec("long", "a"), ColSpec("string", "b")],
        ),
        ({"a": 1.5}, [ColSpec("double", "a")]),
        (
            [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
            [ColSpec("long", "a"), ColSpec("string", "b")],
        ),
        (["x", "y"], [ColSpec("string")]),
        (
            pd.DataFrame({"v": [[1.0, 2.0], [3.0]]}),
            [ColSpec(Array("double"), "v")],
        ),
        (
            pd.DataFrame({"o": [{"k": "x", "n": 1}]}),
            [ColSpec(Object((Property("k", "string"), Property("n", "long"))), "o")],
        ),
        (pd.DataFrame({"b": [b"\x00"]}), [ColSpec("binary", "b")]),
        (
            np.zeros((3, 28, 28), dtype=np.float32),
            [TensorSpec("float32", (-1, 28, 28))],
        ),
        (
            {"x": np.zeros((2, 3)), "y": np.zeros(2, dtype=np.int64)},
            [TensorSpec("float64", (-1, 3), "x"), TensorSpec("int64", (-1,), "y")],
        ),
    ],
)
def test_infer_schema_from_examples(example: Any, expected: list[Any]) -> None:
    assert list(infer_schema(example).inputs) == expected


def test_a_1d_prediction_array_is_one_unnamed_column() -> None:
    assert infer_output_schema(np.array([0, 1])).inputs == (ColSpec("long"),)
    assert infer_output_schema(np.zeros((2, 2))).is_tensor_spec


def test_infer_signature_with_params() -> None:
    signature = infer_signature(
        pd.DataFrame({"a": [1.0]}),
        pd.Series([0.5]),
        {"k": 3, "t": 0.5, "names": ["a", "b"], "flag": True},
    )

    assert signature.params == ParamSchema(
        (
            ParamSpec("k", "long", 3),
            ParamSpec("t", "double", 0.5),
            ParamSpec("names", "string", ["a", "b"], (-1,)),
            ParamSpec("flag", "boolean", True),
        )
    )
    assert signature.outputs == Schema((ColSpec("double"),))


@pytest.mark.parametrize(
    "example",
    [[], object(), pd.DataFrame({"m": [1, "x"]}), {"p": {1, 2}}],
)
def test_infer_schema_refuses_what_it_cannot_describe(example: Any) -> None:
    with pytest.raises(InvalidParameterValue):
        infer_schema(example)


def test_signature_round_trips_through_mlflow_json() -> None:
    signature = ModelSignature(
        Schema(
            (
                ColSpec("double", "a"),
                ColSpec(Array(Object((Property("k", "string", False),))), "b"),
                ColSpec(AnyType(), "c", required=False),
            )
        ),
        Schema((TensorSpec("float32", (-1, 2)),)),
        ParamSchema((ParamSpec("t", "double", 0.5),)),
    )

    block = signature.to_dict()

    assert ModelSignature.from_dict(block) == signature
    assert json.loads(block["params"] or "") == [
        {"name": "t", "type": "double", "default": 0.5, "shape": None}
    ]
    assert json.loads(block["outputs"] or "") == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}}
    ]


def test_reads_a_signature_written_by_mlflow() -> None:
    block = {
        "inputs": '[{"type": "double", "name": "a", "required": true}, '
        '{"type": "map", "values": {"type": "long"}, "name": "m", "required": false}]',
        "outputs": '[{"type": "long", "required": true}]',
        "params": None,
    }

    signature = ModelSignature.from_dict(block)

    assert signature.inputs is not None
    assert signature.inputs.names() == ["a", "m"]
    assert signature.outputs == Schema((ColSpec("long"),))
    assert signature.params is None


def test_unknown_column_type_is_refused() -> None:
    with pytest.raises(InvalidParameterValue, match="'decimal'"):
        Schema.from_json('[{"type": "decimal", "name": "x"}]')


def test_infer_signature_reads_an_array_output_as_a_tensor() -> None:
    # As MLflow's infer_signature does; only saving turns it into a column.
    signature = infer_signature(pd.DataFrame({"a": [1.0]}), np.array([1]))

    assert signature.outputs == Schema((TensorSpec("int64", (-1,)),))
