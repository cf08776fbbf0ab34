"""Dataset schemas in MLflow's JSON forms.

Tables get a column spec, ``{"mlflow_colspec": [{"type": "double", "name":
"x", "required": true}, …]}``; arrays a tensor spec, ``{"mlflow_tensorspec":
{"features": "<json>", "targets": "<json>" | null}}`` whose inner values are
JSON text, as MLflow writes them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["column_type", "frame_schema", "tensor_schema"]

# numpy kind and item size → MLflow column type.
_INTEGER_TYPES = {1: "integer", 2: "integer", 4: "integer", 8: "long"}
_UNSIGNED_TYPES = {1: "integer", 2: "integer", 4: "long", 8: "long"}
_FLOAT_TYPES = {2: "float", 4: "float", 8: "double"}
# Python value type → MLflow column type, for object columns.
_VALUE_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (str, "string"),
    (bytes, "binary"),
    (int, "long"),
    (float, "double"),
)


def column_type(column: pd.Series[Any]) -> str:
    """MLflow's name for the type of a DataFrame column's values."""
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return column_type(pd.Series(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) and dtype.kind != "O":
        return "string"
    kind, size = getattr(dtype, "kind", "O"), getattr(dtype, "itemsize", 0)
    table = {"i": _INTEGER_TYPES, "u": _UNSIGNED_TYPES, "f": _FLOAT_TYPES}.get(kind)
    if table is not None and size in table:
        return table[size]
    return _object_column_type(column)


def _object_column_type(column: pd.Series[Any]) -> str:
    # An object column is typed by its values when they all share one type.
    kinds = {
        next((name for cls, name in _VALUE_TYPES if isinstance(v, cls)), "any")
        for v in column.dropna()
    }
    return kinds.pop() if len(kinds) == 1 else "any"


def frame_schema(df: pd.DataFrame) -> str:
    """The column-spec schema of a DataFrame; a column with nulls is optional."""
    specs = [
        {
            "type": column_type(df[name]),
            "name": str(name),
            "required": not bool(df[name].isna().any()),
        }
        for name in df.columns
    ]
    return json.dumps({"mlflow_colspec": specs})


def _tensor_spec(array: np.ndarray) -> str:
    # The first dimension is the row count, which varies between datasets.
    shape = [-1, *array.shape[1:]]
    spec = {
        "type": "tensor",
        "tensor-spec": {"dtype": str(array.dtype), "shape": shape},
    }
    return json.dumps([spec])


def tensor_schema(features: np.ndarray, targets: np.ndarray | None) -> str:
    """The tensor-spec schema of feature and target arrays."""
    spec = {
        "features": _tensor_spec(features),
        "targets": None if targets is None else _tensor_spec(targets),
    }
    return json.dumps({"mlflow_tensorspec": spec})
