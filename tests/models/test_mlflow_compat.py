"""Two-way compatibility with the stock MLflow.

MLflow runs in its own environment (see ``find_mlflow_python`` in
``tests/conftest.py``); these tests skip when there is none. Kiln is put
on that environment's path because a Kiln custom model's pickle refers to
``kiln.pyfunc.PythonModel``, as an MLflow one refers to MLflow's class.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from kiln import pyfunc
from kiln import sklearn as kiln_sklearn
from kiln.errors import KilnError
from kiln.models import ColSpec, ModelSignature, Schema, infer_signature

SCRIPTS = Path(__file__).with_name("scripts")
REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


class Affine(pyfunc.PythonModel):
    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input["a"] * 3 - model_input["b"]


@pytest.fixture
def by_value() -> Iterator[None]:
    # MLflow's environment cannot import this test module, so its classes are
    # pickled by value, as a class defined in a user's script would be.
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    yield
    cloudpickle.unregister_pickle_by_value(module)


def _run(python: str, script: str, *args: str) -> Any:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        # MLflow 3 refuses to unpickle any model unless this says it may.
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
    }
    done = subprocess.run(
        [python, str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.usefixtures("by_value")
def test_mlflow_loads_models_kiln_saved(
    mlflow_python: str, frame: pd.DataFrame, labels: np.ndarray, tmp_path: Path
) -> None:
    estimator = LogisticRegression().fit(frame, labels)
    kiln_sklearn.save_model(estimator, tmp_path / "sk", input_example=frame.head(2))
    pyfunc.save_model(tmp_path / "custom", python_model=Affine(), input_example=frame)
    (tmp_path / "input.json").write_text(
        json.dumps(
            {
                "columns": list(frame.columns),
                "data": frame.astype(object).values.tolist(),
            }
        )
    )
    folders = [str(tmp_path / "sk"), str(tmp_path / "custom")]

    predicted = _run(
        mlflow_python, "mlflow_loads_kiln.py", str(tmp_path / "input.json"), *folders
    )

    for folder in folders:
        expected = pyfunc.load_model(folder).predict(frame)
        assert predicted[folder] == [float(v) for v in expected]


@pytest.fixture(scope="module")
def mlflow_saved(
    mlflow_python: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """Models saved by MLflow once for this module, and their predictions."""
    folder = tmp_path_factory.mktemp("mlflow-saved")
    return folder, _run(mlflow_python, "mlflow_saves.py", str(folder))


def test_kiln_loads_models_mlflow_saved(
    mlflow_python: str,
    mlflow_saved: tuple[Path, dict[str, Any]],
    frame: pd.DataFrame,
) -> None:
    folder, expected = mlflow_saved

    model = pyfunc.load_model(folder / "sk")
    estimator = kiln_sklearn.load_model(folder / "sk")
    through_kiln = _run(
        mlflow_python, "kiln_loads_mlflow_custom.py", str(folder / "custom")
    )

    assert model.predict(frame).tolist() == expected["sk"]
    assert estimator.predict(frame).tolist() == expected["sk"]
    assert model.metadata.signature is not None
    assert model.metadata.signature.inputs == Schema(
        (ColSpec("double", "a"), ColSpec("long", "b"))
    )
    assert model.metadata.extra["mlflow_version"].startswith("3.")
    assert through_kiln == expected["custom"]


def test_kiln_infers_the_signature_mlflow_infers(
    mlflow_saved: tuple[Path, dict[str, Any]],
) -> None:
    _, expected = mlflow_saved
    compound = pd.DataFrame(
        {
            "v": [[1.0, 2.0]],
            "o": [{"k": "x", "n": 1}],
            "i": np.array([1], dtype=np.int32),
        }
    )

    signature = infer_signature(
        compound, np.zeros((1, 3), dtype=np.float32), params={"k": 3, "names": ["a"]}
    )

    assert signature == ModelSignature.from_dict(expected["signature"])


def test_mlflow_custom_model_without_mlflow_names_it(
    mlflow_saved: tuple[Path, dict[str, Any]],
) -> None:
    folder, _ = mlflow_saved

    # MLflow 3 pickles its own predict wrapper into custom models.
    with pytest.raises(KilnError, match="'mlflow'"):
        pyfunc.load_model(folder / "custom")
