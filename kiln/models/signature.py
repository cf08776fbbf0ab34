"""Infer a model signature from an input example and the model's output.

Accepted examples: a pandas DataFrame or Series, a numpy array, a dict of
columns (lists or arrays), a list of rows (dicts) or a list of scalars. A
DataFrame, a dict of lists and a list of rows give a column-based schema; a
numpy array (or a dict of arrays) gives a tensor-based one, whose first
dimension becomes -1 so any batch size fits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from kiln.errors import InvalidParameterValue
from kiln.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

__all__ = [
    "infer_output_schema",
    "infer_params_schema",
    "infer_schema",
    "infer_signature",
]

# numpy dtype kinds and sizes → MLflow scalar types.
_NUMPY_TYPES: dict[tuple[str, int], str] = {
    ("b", 1): "boolean",
    ("i", 1): "integer",
    ("i", 2): "integer",
    ("i", 4): "integer",
    ("i", 8): "long",
    ("u", 1): "integer",
    ("u", 2): "integer",
    ("u", 4): "long",
    ("f", 2): "float",
    ("f", 4): "float",
    ("f", 8): "double",
}


def infer_signature(
    model_input: Any = None,
    model_output: Any = None,
    params: Mapping[str, Any] | None = None,
) -> ModelSignature:
    """Build a signature from an input example, an output and params defaults."""
    return ModelSignature(
        infer_schema(model_input) if model_input is not None else None,
        infer_schema(model_output) if model_output is not None else None,
        infer_params_schema(params) if params else None,
    )


def infer_output_schema(output: Any) -> Schema:
    """Like :func:`infer_schema`, but a 1-D array of predictions is one
    unnamed column, as MLflow records the output it infers while saving a
    model (its ``infer_signature`` keeps such an array a tensor, as Kiln's
    does)."""
    if isinstance(output, np.ndarray) and output.ndim == 1:
        return Schema((_column_spec(pd.Series(output), None),))
    return infer_schema(output)


def infer_schema(data: Any) -> Schema:
    """The schema describing ``data``; InvalidParameterValue if unsupported."""
    if isinstance(data, pd.DataFrame):
        return Schema(tuple(_column_spec(data[c], str(c)) for c in data.columns))
    if isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        return Schema((_column_spec(data, name),))
    if isinstance(data, np.ndarray):
        return Schema((_tensor_spec(data, None),))
    if isinstance(data, Mapping):
        return _dict_schema(data)
    if isinstance(data, list | tuple):
        return _list_schema(list(data))
    if _scalar_type(data) is not None:
        return Schema((ColSpec(_value_type(data)),))
    raise InvalidParameterValue(
        f"Cannot infer a schema from a {type(data).__name__!r}; pass a pandas "
        "DataFrame, a numpy array, a dict of columns or a list of rows."
    )


def infer_params_schema(params: Mapping[str, Any]) -> ParamSchema:
    """A params schema whose defaults are the given values."""
    specs = []
    for name, value in params.items():
        shape: tuple[int, ...] | None = None
        sample = value
        if isinstance(value, list | tuple):
            shape, sample = (-1,), (value[0] if value else "")
        kind = _scalar_type(sample)
        if kind is None:
            raise InvalidParameterValue(
                f"Param {name!r} has value {value!r}; params must be scalars or "
                "lists of scalars."
            )
        specs.append(ParamSpec(name, kind, _plain(value), shape))
    return ParamSchema(tuple(specs))


def _plain(value: Any) -> Any:
    # Defaults go into JSON, so numpy scalars become Python ones.
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _tensor_spec(array: np.ndarray[Any, Any], name: str | None) -> TensorSpec:
    shape = (-1, *array.shape[1:]) if array.ndim else ()
    return TensorSpec(str(array.dtype), tuple(int(n) for n in shape), name)


def _dict_schema(data: Mapping[str, Any]) -> Schema:
    if data and all(isinstance(v, np.ndarray) for v in data.values()):
        return Schema(tuple(_tensor_spec(v, str(k)) for k, v in data.items()))
    columns = []
    for name, value in data.items():
        if isinstance(value, list | tuple | np.ndarray | pd.Series):
            columns.append(_column_spec(pd.Series(list(value), dtype=object), name))
        else:
            columns.append(ColSpec(_value_type(value), str(name)))
    return Schema(tuple(columns))


def _list_schema(rows: list[Any]) -> Schema:
    if not rows:
        raise InvalidParameterValue("Cannot infer a schema from an empty list.")
    if all(isinstance(row, Mapping) for row in rows):
        return infer_schema(pd.DataFrame.from_records(rows))
    return Schema((_column_spec(pd.Series(rows, dtype=object), None),))


def _column_spec(column: pd.Series[Any], name: str | None) -> ColSpec:
    required = not bool(column.isna().any()) if len(column) else True
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and (dtype.kind, dtype.itemsize) in _NUMPY_TYPES:
        return ColSpec(_NUMPY_TYPES[(dtype.kind, dtype.itemsize)], name, required)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return ColSpec("datetime", name, required)
    if pd.api.types.is_bool_dtype(dtype):
        return ColSpec("boolean", name, required)
    if pd.api.types.is_integer_dtype(dtype):
        return ColSpec("long", name, required)
    if pd.api.types.is_float_dtype(dtype):
        return ColSpec("double", name, required)
    values = [v for v in column.tolist() if not _is_missing(v)]
    if pd.api.types.is_string_dtype(dtype) and all(isinstance(v, str) for v in values):
        return ColSpec("string", name, required)
    return ColSpec(_common_type(values, name), name, required)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _common_type(values: list[Any], name: str | None) -> DataType:
    types = {_value_type(v) for v in values}
    if not types:
        return AnyType()
    if types == {"integer", "long"} or types == {"long"}:
        return "long"
    if types <= {"integer", "long", "float", "double"}:
        return "double" if len(types) > 1 else types.pop()
    if len(types) == 1:
        return types.pop()
    shown = name if name is not None else "the output"
    raise InvalidParameterValue(
        f"Column {shown!r} mixes value types {sorted(map(str, types))!r}; give "
        "every row the same type."
    )


def _scalar_type(value: Any) -> str | None:
    if isinstance(value, bool | np.bool_):
        return "boolean"
    if isinstance(value, np.integer):
        return _NUMPY_TYPES[(value.dtype.kind, value.dtype.itemsize)]
    if isinstance(value, int):
        return "long"
    if isinstance(value, np.floating):
        return _NUMPY_TYPES.get((value.dtype.kind, value.dtype.itemsize), "double")
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bytes):
        return "binary"
    if isinstance(value, datetime | date | np.datetime64 | pd.Timestamp):
        return "datetime"
    return None


def _value_type(value: Any) -> DataType:
    scalar = _scalar_type(value)
    if scalar is not None:
        return scalar
    if isinstance(value, list | tuple | np.ndarray):
        items = [v for v in list(value) if not _is_missing(v)]
        return Array(_common_type(items, None))
    if isinstance(value, Mapping):
        return Object(
            tuple(Property(str(k), _value_type(v)) for k, v in sorted(value.items()))
        )
    raise InvalidParameterValue(
        f"Cannot infer a column type for value {value!r} of type "
        f"{type(value).__name__!r}."
    )
