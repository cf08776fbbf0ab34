"""PyTorch models move both ways between Kiln and the stock MLflow.

MLflow runs in its own environment (see ``find_mlflow_python`` in
``tests/conftest.py``); these tests skip when there is none. The models are
plain ``torch.nn`` layers, which both environments import.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from kiln import pyfunc
from kiln import pytorch as kiln_pytorch
from kiln.models import ModelSignature, Schema, TensorSpec

pytestmark = pytest.mark.slow

ROWS = [[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]]

_MLFLOW_SAVES = """
import json, sys
import numpy as np, torch, mlflow.pytorch
torch.manual_seed(3)
net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
rows = np.array(json.loads(sys.argv[2]), dtype=np.float32)
for fmt in ("pt2", "pickle"):
    mlflow.pytorch.save_model(
        net, f"{sys.argv[1]}/{fmt}", input_example=rows, serialization_format=fmt
    )
with torch.no_grad():
    print(json.dumps(net(torch.from_numpy(rows)).tolist()))
"""

_MLFLOW_LOADS = """
import json, sys
import numpy as np, pandas as pd, torch, mlflow.pyfunc, mlflow.pytorch
rows = np.array(json.loads(sys.argv[2]), dtype=np.float32)
net = mlflow.pytorch.load_model(sys.argv[1])
with torch.no_grad():
    raw = net(torch.from_numpy(rows)).tolist()
model = mlflow.pyfunc.load_model(sys.argv[1])
print(json.dumps({"raw": raw, "pyfunc": model.predict(rows).tolist()}))
"""


def _run(python: str, code: str, *args: str) -> Any:
    env = {
        **os.environ,
        # MLflow 3 refuses to unpickle any model unless this says it may.
        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    done = subprocess.run(
        [python, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mlflow_saved(
    mlflow_python: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Any]:
    """One network saved by MLflow in both formats, and its outputs on ROWS."""
    folder = tmp_path_factory.mktemp("mlflow-torch")
    return folder, _run(mlflow_python, _MLFLOW_SAVES, str(folder), json.dumps(ROWS))


# MLflow 3 saves a torch.export graph (pt2) unless told to pickle.
@pytest.mark.parametrize("serialization_format", ["pt2", "pickle"])
def test_kiln_loads_a_pytorch_model_mlflow_saved(
    mlflow_saved: tuple[Path, Any], serialization_format: str
) -> None:
    folder, expected = mlflow_saved
    rows = np.array(ROWS, dtype=np.float32)

    net = kiln_pytorch.load_model(folder / serialization_format)
    model = pyfunc.load_model(folder / serialization_format)

    with torch.no_grad():
        assert net(torch.from_numpy(rows)).tolist() == expected
    assert model.predict(rows).tolist() == expected
    assert model.metadata.signature is not None
    assert model.metadata.signature.inputs == Schema((TensorSpec("float32", (-1, 3)),))


@pytest.mark.parametrize("serialization_format", ["pickle", "pt2"])
def test_mlflow_loads_a_pytorch_model_kiln_saved(
    mlflow_python: str, serialization_format: str, tmp_path: Path
) -> None:
    torch.manual_seed(5)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh())
    rows = np.array(ROWS, dtype=np.float32)
    kiln_pytorch.save_model(
        net,
        tmp_path / "m",
        input_example=rows,
        serialization_format=serialization_format,
    )
    with torch.no_grad():
        expected = net(torch.from_numpy(rows)).tolist()

    loaded = _run(mlflow_python, _MLFLOW_LOADS, str(tmp_path / "m"), json.dumps(ROWS))

    assert loaded == {"raw": expected, "pyfunc": expected}


def test_kiln_and_mlflow_infer_the_same_signature(
    mlflow_saved: tuple[Path, Any], tmp_path: Path
) -> None:
    folder, _ = mlflow_saved
    torch.manual_seed(3)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1)
    )

    ours = kiln_pytorch.save_model(
        net, tmp_path / "ours", input_example=pd.DataFrame(ROWS).to_numpy(np.float32)
    )

    theirs = pyfunc.get_model_info(folder / "pickle").signature
    assert isinstance(theirs, ModelSignature)
    assert ours.signature == theirs
