"""Save an input example next to a model, and read it back.

``input_example.json`` holds the example itself (a DataFrame in pandas'
"split" orient, or an array as ``{"inputs": …}``) and
``serving_input_example.json`` the same example as a scoring server request
body, so it can be sent as is. ``MLmodel`` records both names under
``saved_input_example_info``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kiln.errors import InvalidParameterValue
from kiln.models.enforcement import to_frame
from kiln.models.model import model_file

__all__ = [
    "EXAMPLE_FILE",
    "SERVING_EXAMPLE_FILE",
    "load_input_example",
    "save_input_example",
]

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    raise InvalidParameterValue(
        f"The input example holds {value!r}, which cannot be saved as JSON."
    )


def _is_tensor_example(example: Any) -> bool:
    return isinstance(example, np.ndarray) or (
        isinstance(example, Mapping)
        and bool(example)
        and all(isinstance(v, np.ndarray) for v in example.values())
    )


def save_input_example(folder: Path, example: Any) -> dict[str, Any]:
    """Write the example files; return ``saved_input_example_info``."""
    if _is_tensor_example(example):
        inputs = (
            example
            if isinstance(example, np.ndarray)
            else {k: np.asarray(v) for k, v in example.items()}
        )
        body: dict[str, Any] = {"inputs": inputs}
        serving: dict[str, Any] = body
        kind = "ndarray"
    else:
        frame = to_frame(example)
        body = {
            "columns": [str(c) for c in frame.columns],
            "data": frame.to_numpy(dtype=object).tolist(),
        }
        serving = {"dataframe_split": body}
        kind = "dataframe"
    (folder / EXAMPLE_FILE).write_text(json.dumps(body, default=_jsonable))
    (folder / SERVING_EXAMPLE_FILE).write_text(
        json.dumps(serving, default=_jsonable, indent=2)
    )
    info: dict[str, Any] = {
        "artifact_path": EXAMPLE_FILE,
        "serving_input_path": SERVING_EXAMPLE_FILE,
        "type": kind,
    }
    if kind == "dataframe":
        info["pandas_orient"] = "split"
    return info


def load_input_example(folder: str | Path, info: Mapping[str, Any] | None) -> Any:
    """The saved example as a DataFrame or numpy array(s); None if there is none."""
    if not info:
        return None
    path = model_file(Path(folder), info.get("artifact_path", EXAMPLE_FILE))
    body = json.loads(path.read_text())
    if info.get("type") == "ndarray":
        inputs = body["inputs"]
        if isinstance(inputs, dict):
            return {k: np.asarray(v) for k, v in inputs.items()}
        return np.asarray(inputs)
    if info.get("type") == "dataframe":
        return pd.DataFrame(body["data"], columns=body["columns"])
    return body
