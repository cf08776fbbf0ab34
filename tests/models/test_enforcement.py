from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from kiln.errors import InvalidParameterValue
from kiln.models import (
    Array,
    ColSpec,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)
from kiln.models.enforcement import enforce_input, enforce_params

COLUMNS = Schema(
    (ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c", False))
)


@pytest.mark.parametrize(
    "data",
    [
        pd.DataFrame({"a": [1.0], "b": [2], "c": ["x"]}),
        {"a": [1.0], "b": [2], "c": ["x"]},
        {"a": 1.0, "b": 2, "c": "x"},
        [{"a": 1.0, "b": 2, "c": "x"}],
        [[1.0, 2, "x"]],
    ],
)
def test_every_input_form_becomes_the_same_frame(data: Any) -> None:
    result = enforce_input(data, COLUMNS)

    assert list(result.columns) == ["a", "b", "c"]
    assert result.to_dict("list") == {"a": [1.0], "b": [2], "c": ["x"]}


@pytest.mark.parametrize(
    ("column", "values", "dtype"),
    [
        ("a", np.array([1, 2], dtype=np.int64), "float64"),
        ("a", np.array([1.5, 2.5], dtype=np.float32), "float64"),
        ("b", np.array([1, 2], dtype=np.int32), "int64"),
        ("b", np.array([1, 2], dtype=np.uint8), "int64"),
    ],
)
def test_safe_widenings_are_applied(column: str, values: Any, dtype: str) -> None:
    data = {"a": [1.0, 2.0], "b": [1, 2], column: values}

    assert str(enforce_input(data, COLUMNS)[column].dtype) == dtype


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"a": [1.0]}, r"missing required column\(s\) 'b' \(long\)"),
        ({"a": [1.0], "b": [1.5]}, r"Column 'b' must hold 'long' values, got dtype"),
        ({"a": ["x"], "b": [1]}, r"Column 'a' must hold 'double'"),
        ({"a": [1.0], "b": [1], "c": [3]}, r"Column 'c' must hold 'string'"),
    ],
)
def test_wrong_input_names_the_column_and_type(data: Any, message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        enforce_input(data, COLUMNS)


def test_extra_columns_are_dropped_and_optional_ones_may_be_missing() -> None:
    result = enforce_input({"b": [1], "zzz": [0], "a": [2.0]}, COLUMNS)

    assert list(result.columns) == ["a", "b"]


def test_a_frame_that_already_fits_is_used_as_it_is() -> None:
    schema = Schema((ColSpec("double", "a"), ColSpec("long", "b")))
    frame = pd.DataFrame({"a": [1.0], "b": np.array([2], dtype=np.int64)})

    assert enforce_input(frame, schema) is frame


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"b": [2], "a": [1.0]}),
        pd.DataFrame({"a": [1.0], "b": np.array([2], dtype=np.int32)}),
        pd.DataFrame({"a": [1.0], "b": [2], "z": [0]}),
    ],
    ids=["order", "dtype", "extra"],
)
def test_a_frame_that_needs_work_is_rebuilt(frame: pd.DataFrame) -> None:
    schema = Schema((ColSpec("double", "a"), ColSpec("long", "b")))

    result = enforce_input(frame, schema)

    assert result is not frame
    assert list(result.columns) == ["a", "b"]
    assert [str(t) for t in result.dtypes] == ["float64", "int64"]


def test_unnamed_schema_checks_position_and_count() -> None:
    schema = Schema((ColSpec("string"),))

    assert enforce_input(["x", "y"], schema).iloc[:, 0].tolist() == ["x", "y"]
    with pytest.raises(InvalidParameterValue, match="expects 1"):
        enforce_input(pd.DataFrame({"p": ["x"], "q": ["y"]}), schema)


@pytest.mark.parametrize(
    ("spec", "good", "bad"),
    [
        (Array("long"), [[1, 2], [3]], [["x"]]),
        (
            Object((Property("k", "string"),)),
            [{"k": "x"}],
            [{"other": "x"}],
        ),
    ],
)
def test_compound_columns_check_each_value(spec: Any, good: Any, bad: Any) -> None:
    schema = Schema((ColSpec(spec, "v"),))

    enforce_input(pd.DataFrame({"v": good}), schema)
    with pytest.raises(InvalidParameterValue, match="'v'"):
        enforce_input(pd.DataFrame({"v": bad}), schema)


def test_tensors_check_dtype_and_shape() -> None:
    schema = Schema((TensorSpec("float64", (-1, 2)),))

    result = enforce_input(np.ones((3, 2), dtype=np.float32), schema)

    assert result.dtype == np.float64
    with pytest.raises(InvalidParameterValue, match=r"shape \[-1, 2\]"):
        enforce_input(np.ones((3, 3)), schema)
    with pytest.raises(InvalidParameterValue, match="dtype 'float64'"):
        enforce_input(np.array([["a", "b"]]), schema)


def test_named_tensors_need_every_name() -> None:
    schema = Schema((TensorSpec("int64", (-1,), "x"), TensorSpec("int64", (-1,), "y")))

    with pytest.raises(InvalidParameterValue, match=r"\['y'\]"):
        enforce_input({"x": np.array([1])}, schema)


def test_without_schema_rows_and_columns_still_become_frames() -> None:
    assert isinstance(enforce_input([{"a": 1}], None), pd.DataFrame)
    assert isinstance(enforce_input({"a": [1, 2]}, None), pd.DataFrame)
    array = np.ones(2)
    assert enforce_input(array, None) is array
    texts = ["a question", "another"]
    assert enforce_input(texts, None) is texts


def test_a_3d_array_is_not_a_table() -> None:
    with pytest.raises(InvalidParameterValue, match="3-dimensional"):
        enforce_input(np.ones((2, 2, 2)), COLUMNS)


PARAMS = ParamSchema(
    (
        ParamSpec("k", "long", 3),
        ParamSpec("t", "double", 0.5),
        ParamSpec("tags", "string", [], (-1,)),
    )
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, {"k": 3, "t": 0.5, "tags": []}),
        ({"k": 5}, {"k": 5, "t": 0.5, "tags": []}),
        ({"t": 1, "tags": ["x"]}, {"k": 3, "t": 1.0, "tags": ["x"]}),
    ],
)
def test_params_get_defaults(given: Any, expected: dict[str, Any]) -> None:
    assert enforce_params(given, PARAMS) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"nope": 1}, r"Unknown param\(s\) \['nope'\]"),
        ({"k": "many"}, "Param 'k' must be a 'long' value"),
        ({"tags": "x"}, "Param 'tags' must be a list"),
    ],
)
def test_bad_params_are_refused(given: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterValue, match=message):
        enforce_params(given, PARAMS)
