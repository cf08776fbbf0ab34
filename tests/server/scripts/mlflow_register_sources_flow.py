"""Register models with the stock mlflow client in the ways that name a run.

Usage: ``python mlflow_register_sources_flow.py http://127.0.0.1:PORT``;
prints COMPAT-OK when ``log_model(..., registered_model_name=...)`` and
``register_model("runs:/<id>/<path>")`` of files logged under the run are
accepted, and a version claiming the run with a source elsewhere is refused.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import numpy
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

warnings.filterwarnings("ignore", category=FutureWarning)

mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("sources")

features = numpy.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
model = LogisticRegression().fit(features, numpy.array([0, 1, 0, 1]))
expected = model.predict(features)

with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(model, name="model", registered_model_name="fraud")
    with tempfile.TemporaryDirectory() as folder:
        saved = Path(folder) / "saved"
        mlflow.sklearn.save_model(model, str(saved))
        mlflow.log_artifacts(str(saved), artifact_path="legacy")
assert str(info.registered_model_version) == "1", info.registered_model_version

legacy = mlflow.register_model(f"runs:/{run.info.run_id}/legacy", "fraud")
assert str(legacy.version) == "2", legacy
assert legacy.source.endswith(f"{run.info.run_id}/artifacts/legacy"), legacy.source
for uri in ("models:/fraud/1", "models:/fraud/2"):
    loaded = mlflow.pyfunc.load_model(uri)
    assert (loaded.predict(features) == expected).all(), uri

client = MlflowClient()
for source in (
    "s3://elsewhere/model",
    f"https://elsewhere.example/{run.info.run_id}/artifacts/model",
):
    try:
        client.create_model_version("fraud", source, run_id=run.info.run_id)
    except MlflowException as error:
        assert error.error_code == "INVALID_PARAMETER_VALUE", error.error_code
    else:
        raise AssertionError(f"{source} lies outside the run and must be refused")
assert len(client.search_model_versions("name = 'fraud'")) == 2

print("COMPAT-OK")
