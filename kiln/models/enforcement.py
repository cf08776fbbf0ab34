"""Check and convert a model's input and params against its signature.

Runs before every ``predict``. Columns are matched by name; extra columns are
dropped and safe widenings applied (integers to ``long`` or ``double``,
``float`` to ``double``). A missing required column, a value of the wrong
type or an unknown param raises :class:`~kiln.errors.InvalidParameterValue`
naming the column or param and the type the signature expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kiln.errors import InvalidParameterValue
from kiln.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    type_to_dict,
)

__all__ = ["enforce_input", "enforce_params", "to_frame"]

# The numpy type each numeric scalar type converts to.
_TARGETS: dict[str, type[np.generic]] = {
    "boolean": np.bool_,
    "integer": np.int32,
    "long": np.int64,
    "float": np.float32,
    "double": np.float64,
}


def _widens_to(dtype: np.dtype[Any], expected: str) -> bool:
    """Whether ``dtype`` converts to ``expected`` without losing values (or, for
    double, the documented int-to-double widening)."""
    kind, size = dtype.kind, dtype.itemsize
    if expected == "boolean":
        return kind == "b"
    if expected == "integer":
        return (kind == "i" and size <= 4) or (kind == "u" and size <= 2)
    if expected == "long":
        return kind == "i" or (kind == "u" and size <= 4)
    if expected == "float":
        return kind == "f" and size <= 4
    return expected == "double" and kind in "iuf"


def to_frame(data: Any, names: list[str] | None = None) -> pd.DataFrame:
    """Turn a DataFrame, Series, dict of columns, list of rows or 2-D array into
    a DataFrame; ``names`` label the columns of an array."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        if all(np.ndim(v) == 0 for v in data.values()):
            return pd.DataFrame([dict(data)])
        return pd.DataFrame(
            {k: list(v) if np.ndim(v) > 1 else v for k, v in data.items()}
        )
    if isinstance(data, np.ndarray):
        if data.ndim > 2:
            raise InvalidParameterValue(
                f"A {data.ndim}-dimensional array cannot be read as columns; the "
                "model's signature expects a table."
            )
        array = data.reshape(-1, 1) if data.ndim == 1 else data
        use = names if names and len(names) == array.shape[1] else None
        return pd.DataFrame(array, columns=use)
    if isinstance(data, list | tuple):
        rows = list(data)
        if rows and all(isinstance(r, Mapping) for r in rows):
            return pd.DataFrame.from_records(rows)
        if rows and all(isinstance(r, list | tuple) for r in rows):
            use = names if names and len(names) == len(rows[0]) else None
            return pd.DataFrame(rows, columns=use)
        return pd.DataFrame({0: rows})
    if np.ndim(data) == 0:
        return pd.DataFrame({0: [data]})
    raise InvalidParameterValue(
        f"Model input of type {type(data).__name__!r} is not supported; pass a "
        "pandas DataFrame, a numpy array, a dict of columns or a list of rows."
    )


def enforce_input(data: Any, schema: Schema | None) -> Any:
    """Return ``data`` checked and converted to what ``schema`` describes.

    Without a schema only a dict of columns or a list of rows (dicts) becomes
    a DataFrame; anything else reaches the model as given.
    """
    if schema is None or not schema.inputs:
        return to_frame(data) if _is_columns_or_rows(data) else data
    if schema.is_tensor_spec:
        return _enforce_tensors(data, schema)
    return _enforce_columns(data, schema)


def _is_columns_or_rows(data: Any) -> bool:
    if isinstance(data, Mapping):
        # A dict of arrays is named tensors, kept as it is.
        return not all(isinstance(v, np.ndarray) for v in data.values())
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(row, Mapping) for row in data)
    )


def _enforce_columns(data: Any, schema: Schema) -> pd.DataFrame:
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    frame = to_frame(data, schema.names() or None)
    if not schema.has_names:
        if frame.shape[1] != len(specs):
            raise InvalidParameterValue(
                f"Model input has {frame.shape[1]} column(s); the signature expects "
                f"{len(specs)}."
            )
        converted = {
            column: _coerce(frame[column], spec, str(column))
            for column, spec in zip(frame.columns, specs, strict=True)
        }
        return pd.DataFrame(converted, index=frame.index)

    if _already_fits(frame, specs):
        return frame
    present = {str(c): c for c in frame.columns}
    missing = [s for s in specs if s.required and s.name not in present]
    if missing:
        listed = ", ".join(f"{s.name!r} ({_describe(s.type)})" for s in missing)
        raise InvalidParameterValue(
            f"Model input is missing required column(s) {listed}; add them to "
            "the input."
        )
    # Extra columns are dropped; the rest come in the signature's order.
    converted = {
        spec.name: _coerce(frame[present[spec.name]], spec, spec.name)
        for spec in specs
        if spec.name is not None and spec.name in present
    }
    return pd.DataFrame(converted, index=frame.index)


def _already_fits(frame: pd.DataFrame, specs: list[ColSpec]) -> bool:
    """Whether ``frame`` holds exactly the signature's columns, in its order,
    each already of the numpy dtype it would be converted to.

    Such a frame passes every check unchanged, so it is used as it is:
    rebuilding it would cost more than the model's own call on one row.
    """
    names = [str(c) for c in frame.columns]
    if names != [s.name for s in specs]:
        return False
    for dtype, spec in zip(frame.dtypes, specs, strict=True):
        if isinstance(spec.type, AnyType):
            continue
        target = _TARGETS.get(spec.type) if isinstance(spec.type, str) else None
        if target is None or dtype != np.dtype(target):
            return False
    return True


def _describe(data_type: DataType) -> str:
    return data_type if isinstance(data_type, str) else str(type_to_dict(data_type))


def _type_error(name: str, expected: DataType, got: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Column {name!r} must hold {_describe(expected)!r} values, got {got}."
    )


def _coerce(column: pd.Series[Any], spec: ColSpec, name: str) -> pd.Series[Any]:
    expected = spec.type
    values = column.dropna()
    if isinstance(expected, AnyType):
        return column
    if isinstance(expected, Array | Object | Map):
        for value in values:
            _check_value(value, expected, name)
        return column
    dtype = column.dtype
    if expected in _TARGETS:
        if isinstance(dtype, np.dtype) and _widens_to(dtype, expected):
            return column.astype(_TARGETS[expected])
        numpy_dtype = np.dtype(getattr(dtype, "numpy_dtype", object))
        if _widens_to(numpy_dtype, expected):
            # A nullable column with missing values keeps its extension type.
            has_missing = values.size < column.size
            return column if has_missing else column.astype(_TARGETS[expected])
        raise _type_error(name, expected, f"dtype {str(dtype)!r}")
    if expected == "datetime":
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return column
        raise _type_error(name, expected, f"dtype {str(dtype)!r}")
    kind = str if expected == "string" else bytes
    for value in values:
        if not isinstance(value, kind):
            raise _type_error(name, expected, f"{value!r}")
    return column


def _check_value(value: Any, expected: DataType, name: str) -> None:
    if isinstance(expected, Array):
        if not isinstance(value, list | tuple | np.ndarray):
            raise _type_error(name, expected, f"{value!r}")
        for item in value:
            _check_value(item, expected.items, name)
    elif isinstance(expected, Object | Map):
        if not isinstance(value, Mapping):
            raise _type_error(name, expected, f"{value!r}")
        if isinstance(expected, Object):
            for prop in expected.properties:
                if prop.required and prop.name not in value:
                    raise InvalidParameterValue(
                        f"Column {name!r} holds an object without required field "
                        f"{prop.name!r} ({_describe(prop.type)})."
                    )
    elif isinstance(expected, str) and not _scalar_fits(value, expected):
        raise _type_error(name, expected, f"{value!r}")


def _scalar_fits(value: Any, expected: str) -> bool:
    if expected == "boolean":
        return isinstance(value, bool | np.bool_)
    if expected in ("integer", "long"):
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if expected in ("float", "double"):
        return isinstance(value, int | float | np.number) and not isinstance(
            value, bool
        )
    if expected == "string":
        return isinstance(value, str)
    if expected == "binary":
        return isinstance(value, bytes)
    return True


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if len(specs) == 1 and not isinstance(data, Mapping):
        array = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
        return _check_tensor(array, specs[0], specs[0].name or "input")
    if not isinstance(data, Mapping):
        raise InvalidParameterValue(
            f"The model expects tensors {[s.name for s in specs]!r}; pass a dict "
            "of numpy arrays."
        )
    missing = [s.name for s in specs if s.name not in data]
    if missing:
        raise InvalidParameterValue(
            f"Model input is missing tensor(s) {missing!r}; add them to the input."
        )
    return {
        s.name: _check_tensor(np.asarray(data[s.name]), s, str(s.name)) for s in specs
    }


def _check_tensor(
    array: np.ndarray[Any, Any], spec: TensorSpec, name: str
) -> np.ndarray[Any, Any]:
    expected = np.dtype(spec.dtype)
    if array.dtype != expected and not np.can_cast(array.dtype, expected, "safe"):
        raise InvalidParameterValue(
            f"Tensor {name!r} must have dtype {spec.dtype!r}, got "
            f"{str(array.dtype)!r}, which does not convert safely."
        )
    shape_fits = len(array.shape) == len(spec.shape) and all(
        want in (-1, got) for want, got in zip(spec.shape, array.shape, strict=True)
    )
    if not shape_fits:
        raise InvalidParameterValue(
            f"Tensor {name!r} must have shape {list(spec.shape)!r} (-1 = any size), "
            f"got {list(array.shape)!r}."
        )
    return array.astype(expected, copy=False)


def enforce_params(
    params: Mapping[str, Any] | None, schema: ParamSchema | None
) -> dict[str, Any] | None:
    """Params with defaults filled in; refuses params the schema doesn't name."""
    if schema is None:
        return dict(params) if params else None
    given = dict(params or {})
    known = {spec.name: spec for spec in schema.params}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidParameterValue(
            f"Unknown param(s) {unknown!r}; the model accepts {sorted(known)!r}."
        )
    return {
        name: _check_param(spec, given[name]) if name in given else spec.default
        for name, spec in known.items()
    }


def _check_param(spec: ParamSpec, value: Any) -> Any:
    if spec.shape is not None:
        if not isinstance(value, list | tuple):
            raise InvalidParameterValue(
                f"Param {spec.name!r} must be a list of {spec.type!r} values, "
                f"got {value!r}."
            )
        return [_check_param(ParamSpec(spec.name, spec.type, None), v) for v in value]
    if spec.type == "datetime" or _scalar_fits(value, spec.type):
        return float(value) if spec.type in ("float", "double") else value
    raise InvalidParameterValue(
        f"Param {spec.name!r} must be a {spec.type!r} value, got {value!r}."
    )
