from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from kiln import pyfunc
from kiln.models import Model

# Run in a child process: cloudpickle hands back the very class it pickled
# when loading in the process that made it, hiding what a loader would see.
_WRITE_OLD_PICKLE = """
import sys, types, cloudpickle
base = type("PythonModel", (), {"__module__": "mlflow.pyfunc.model"})
fake = types.ModuleType("mlflow.pyfunc.model")
fake.PythonModel = base
fake.__file__ = "mlflow/pyfunc/model.py"  # importable, so stored by name
sys.modules.update(
    {"mlflow": types.ModuleType("mlflow"),
     "mlflow.pyfunc": types.ModuleType("mlflow.pyfunc"),
     "mlflow.pyfunc.model": fake}
)
def predict(self, context, model_input, params=None):
    return model_input * 2
old = type("Old", (base,), {"predict": predict, "__module__": "__main__"})
with open(sys.argv[1], "wb") as file:
    cloudpickle.dump(old(), file)
"""


def _mlflow_like_model(folder: Path) -> None:
    """A custom model as MLflow before 2.20 wrote it: an instance of a class
    deriving from ``mlflow.pyfunc.model.PythonModel``, no MLflow code inside."""
    folder.mkdir()
    subprocess.run(
        [sys.executable, "-c", _WRITE_OLD_PICKLE, str(folder / "python_model.pkl")],
        check=True,
    )
    model = Model().add_flavor(
        "python_function",
        loader_module="mlflow.pyfunc.model",
        python_model="python_model.pkl",
    )
    model.save(folder)


def test_old_mlflow_custom_models_load_without_mlflow(tmp_path: Path) -> None:
    _mlflow_like_model(tmp_path / "old")

    model = pyfunc.load_model(tmp_path / "old")

    assert model.predict(np.array([1, 2])).tolist() == [2, 4]
    assert isinstance(model.unwrap_python_model(), pyfunc.PythonModel)


def test_import_kiln_leaves_models_unloaded_until_used() -> None:
    code = (
        "import sys, kiln\n"
        "before = 'kiln.models' in sys.modules\n"
        "kiln.pyfunc.PythonModel, kiln.sklearn.save_model\n"
        "print(before, 'kiln.models' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert done.stdout.split() == ["False", "True"]
